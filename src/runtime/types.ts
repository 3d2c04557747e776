/**
 * @module runtime/types
 * The Runtime contract between the worker and whatever actually executes a job (podman, docker,
 * bubblewrap, or a bare process). The worker stages a read-only snapshot, an output dir and dataset
 * dirs on the host, then hands a {@link RunSpec} to {@link Runtime.run}; the runtime decides how the
 * job sees them (bind mounts, or host paths for `process`) and always reports a {@link RunResult}
 * instead of throwing for job-level failures, so the worker has one code path for every outcome.
 *
 * Container-only fields (`image`, `gpuIndices`, `network`) are part of the spec from the start so
 * podman/docker fit without changing the interface; runtimes that cannot honour one say so in
 * {@link RunResult.warnings} rather than silently differing.
 */

/** Which implementation. */
export type RuntimeName = 'podman' | 'docker' | 'sandbox' | 'process';

/** How strongly a runtime separates the job from the host (recorded in the run manifest). */
export type Isolation = 'container' | 'sandbox' | 'none';

/** What `detectRuntime` accepts: a specific runtime, or `auto` (podman > docker > sandbox > process). */
export type RuntimePreference = 'auto' | RuntimeName;

/** A dataset the job reads: exposed read-only at `/work/data/<name>` (`$FETCHML_DATA/<name>`). */
export interface DatasetMount {
  /** Dataset name; letters, digits, `.`, `_`, `-` (validated by the spec schema). */
  name: string;
  /** Staged, verified directory on the host. */
  hostPath: string;
}

/** Resource limits for one run. */
export interface RunResources {
  /** CPU cores (fractional allowed). Enforced with a CPU cgroup quota when available, else not. */
  cpus: number;
  /** Memory limit in MiB; `null`/0 = no limit. */
  memory_mb: number | null;
  /** GPU indices assigned by the scheduler; the job sees only these (empty = no GPU). */
  gpuIndices: number[];
  /** Max processes/threads; default 4096. Enforced with a pids cgroup when available. */
  pids?: number;
}

/** Everything a runtime needs to run one job. */
export interface RunSpec {
  /** Task id; used in names (cgroups, temp dirs) and exposed as `$FETCHML_TASK_ID`. */
  taskId: string;
  /** Command, no shell. `argv[0]` is looked up on the job's PATH (relative: from the snapshot). */
  argv: string[];
  /** Staged snapshot (host path). Read-only at `/work/src` (the cwd) in sandbox/containers. */
  workDir: string;
  /** Writable output dir (host path). The job finds it at `$FETCHML_OUTPUT`. */
  outputDir: string;
  /** Read-only datasets. */
  datasets: DatasetMount[];
  /** Job environment. Nothing from the host environment is passed, only this plus the fixed set. */
  env: Record<string, string>;
  resources: RunResources;
  /** `none` (default): no network. `bridge`: a network (for `sandbox`: the host's network). */
  network: 'none' | 'bridge';
  /** Wall-clock limit; `null` = none. On expiry: SIGTERM, grace, SIGKILL; reason `timeout`. */
  timeoutMs: number | null;
  /** Container image (podman/docker). Host-rootfs runtimes ignore it with a warning. */
  image?: string | null;
  /** Aborting it cancels the run: SIGTERM, grace, SIGKILL; reason `cancelled`. */
  signal: AbortSignal;
  /** Receives output chunks as they arrive (not line-buffered). Must not throw (errors are ignored). */
  onOutput(stream: 'stdout' | 'stderr', chunk: Buffer): void;
}

/** Why a run ended. */
export type RunEndReason = 'exited' | 'timeout' | 'cancelled' | 'oom' | 'spawn_failed';

/** How a limit was enforced in this run (recorded in the manifest: explicit over magic). */
export type LimitEnforcement = 'cgroup' | 'rlimit' | 'none';

/** Per-limit enforcement report. */
export interface LimitReport {
  memory: LimitEnforcement;
  cpu: LimitEnforcement;
  pids: LimitEnforcement;
}

/** The outcome of {@link Runtime.run}. */
export interface RunResult {
  /** Exit code of the job; `null` when it was killed by a signal the runtime saw directly. */
  exitCode: number | null;
  /**
   * Terminating signal name (`SIGKILL`), if any. Sandbox/containers report a signal death as exit
   * code 128+n (like docker); the signal name is derived from it.
   */
  signal: string | null;
  reason: RunEndReason;
  durationMs: number;
  /** Human-readable explanation for `spawn_failed`, `oom`, `timeout`, `cancelled`. */
  message?: string;
  /** How the resource limits were enforced. */
  limits: LimitReport;
  /** Per-run caveats (ignored image, host network, rlimit-only memory limit, ...). */
  warnings: string[];
}

/** Result of {@link Runtime.available}. */
export interface Availability {
  ok: boolean;
  /** Why not (missing binary, namespaces disabled, ...), with what to install or change. */
  reason?: string;
  /**
   * Container runtimes, when the engine works: whether it runs rootless (podman as a non-root
   * user, or a rootless docker daemon), its cgroup version, and whether it can enforce memory, cpu
   * and pids limits (not when rootless on cgroup v1: the engine ignores them).
   */
  engine?: EngineInfo;
}

/** What a container engine's probe found (see {@link Availability.engine}). */
export interface EngineInfo {
  rootless: boolean;
  cgroups: 'v1' | 'v2';
  limitsEnforced: boolean;
}

/** A resolved container image (recorded in the run manifest). */
export interface ImageInfo {
  /** The reference as given (`localhost/fetchml-python:latest`). */
  reference: string;
  /** Image id (`sha256:...` of its config). */
  id: string;
  /** Registry/manifest digest when the engine knows one, else the id. */
  digest: string;
}

/** A way to run jobs: `podman`, `docker`, `sandbox` (bubblewrap), `process`. */
export interface Runtime {
  readonly name: RuntimeName;
  readonly isolation: Isolation;
  /** Static caveats of this runtime; the worker records them in the manifest and status. */
  readonly warnings: readonly string[];
  /** Whether this runtime can run jobs on this host (cheap; runs a probe at most once). */
  available(): Promise<Availability>;
  /** Version string of the underlying tool (`bubblewrap 0.8.0`, `node v20...`). */
  version(): Promise<string>;
  /**
   * Runs one job to completion. Resolves for every job outcome (non-zero exit, timeout, cancel, OOM,
   * command not found); rejects only on a bug or a host failure (e.g. unwritable output dir).
   */
  run(spec: RunSpec): Promise<RunResult>;
  /**
   * Container runtimes only: resolves the image a spec names (`null`: the runtime's default) to
   * its id and digest, without pulling. Called by the worker before staging, so a missing image
   * fails the task at once with a message that says how to provide it.
   * @throws FetchmlError `ML_ERR_IMAGE_UNAVAILABLE` when the image is not present.
   */
  resolveImage?(image: string | null): Promise<ImageInfo>;
  /**
   * Container runtimes only: removes the job containers a previous run of worker `workerId` left
   * behind (it crashed); returns their names. Called once when a worker starts.
   */
  cleanupStale?(workerId: string): Promise<string[]>;
}

/** Tunables shared by the built-in runtimes. */
export interface RuntimeOptions {
  /**
   * SIGTERM → SIGKILL grace on timeout/cancel, in ms.
   * @default 5000
   */
  killGraceMs?: number;
  /**
   * PATH given to the job (and used to resolve `argv[0]`) unless the job env sets PATH.
   * @default DEFAULT_PATH
   */
  path?: string;
  /**
   * Use cgroup v1 controllers (memory, cpu, pids) when writable. `false` forces rlimits only.
   * @default true
   */
  cgroups?: boolean;
  /** Root of the cgroup v1 hierarchy. @default '/sys/fs/cgroup' */
  cgroupRoot?: string;
}

/** The job PATH when the caller gives none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
