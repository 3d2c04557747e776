/**
 * @module runtime/oci/args
 * The one place that turns a {@link RunSpec} into `podman run` / `docker run` arguments. Both
 * engines take the same flags for everything that matters to isolation, so the secure defaults
 * are written once and the two runtimes cannot drift apart:
 *
 * - `--network none` unless the spec asks for `bridge`; `--read-only` root; `--cap-drop ALL`;
 *   `--security-opt no-new-privileges`; `--init` (a tiny pid 1 that forwards signals and reaps);
 *   a non-root `--user`; `--pids-limit`, `--memory` (= `--memory-swap`: no swap, so the limit
 *   ends in an OOM kill), `--cpus`.
 * - Mounts: the snapshot read-only at /work/src (the cwd), each dataset read-only at
 *   /work/data/<name>, the output dir read-write at /work/output, a size-capped tmpfs at /tmp
 *   ($HOME, $TMPDIR) and nothing else.
 * - The environment comes from an env file (./env-file.ts), never from the command line, so
 *   values (tokens) are not visible in `ps`; host paths never appear in it (CONTAINER_PATHS).
 * - GPUs: only the assigned indices — CDI devices for podman (`--device nvidia.com/gpu=<i>`),
 *   `--gpus '"device=<i,j>"'` for docker.
 * - `--pull never`: a missing image is reported by the worker before the run (./oci-runtime.ts),
 *   and a run never reaches out to a registry.
 */
import { errors } from '../../core/errors.ts';
import { CONTAINER_PATHS } from '../env.ts';
import { DEFAULT_PIDS_LIMIT } from '../limits.ts';
import type { RunSpec } from '../types.ts';

/** Which engine the arguments are for. */
export type Engine = 'podman' | 'docker';

/** Labels on every job container (stale-container cleanup finds them by worker). */
export const LABEL_TASK = 'fetchml.task';
export const LABEL_WORKER = 'fetchml.worker';

/** Per-run inputs besides the spec. */
export interface OciRunOptions {
  engine: Engine;
  /** Container name (`fetchml-<task>-<n>`). */
  name: string;
  workerId: string;
  image: string;
  /** `uid:gid` inside the container. */
  user: string;
  /** podman `--userns` mode (`keep-id` when rootless), or none. */
  userns?: string;
  /** Env file with the job environment (mode 0600). */
  envFile: string;
  /** Variables passed as `-e NAME` (their values are in the engine's own environment). */
  envNames: readonly string[];
  /** Size cap of /tmp in MiB. */
  tmpSizeMb: number;
}

/** Refuses host paths that `-v src:dst:ro` cannot express. */
function mountSource(field: string, path: string): string {
  if (/[:,\n]/.test(path)) {
    throw errors.validation(
      field,
      `container runtimes cannot mount a path with ':' or ',': ${path}`,
    );
  }
  return path;
}

/** Container name for a task: `fetchml-<task id, sanitized>-<n>`. */
export function containerName(taskId: string, n: number): string {
  const safe = taskId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100);
  return `fetchml-${safe}-${n}`;
}

/** GPU flags for the assigned indices (empty: no GPU flag at all, so none is exposed). */
export function gpuArgs(engine: Engine, indices: readonly number[]): string[] {
  if (indices.length === 0) return [];
  if (engine === 'podman') return indices.flatMap((i) => ['--device', `nvidia.com/gpu=${i}`]);
  // docker parses --gpus as CSV: the inner quotes keep "device=0,1" one field.
  return ['--gpus', `"device=${indices.join(',')}"`];
}

/** The arguments after the engine binary: `run ... IMAGE ARGV...`. */
export function buildOciRunArgs(spec: RunSpec, o: OciRunOptions): string[] {
  const r = spec.resources;
  const args = ['run', '--rm', '--name', o.name, '--pull', 'never'];
  args.push('--label', `${LABEL_TASK}=${spec.taskId}`, '--label', `${LABEL_WORKER}=${o.workerId}`);
  args.push('--network', spec.network === 'bridge' ? 'bridge' : 'none');
  args.push('--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--init');
  if (o.engine === 'podman') {
    // podman adds writable tmpfs on /run, /var/tmp with --read-only; only /tmp is wanted.
    args.push('--read-only-tmpfs=false', '--log-driver', 'none');
    if (o.userns !== undefined) args.push(`--userns=${o.userns}`);
  }
  args.push('--user', o.user);
  args.push('--pids-limit', String(r.pids ?? DEFAULT_PIDS_LIMIT));
  if (r.memory_mb != null && r.memory_mb > 0) {
    const mem = `${Math.floor(r.memory_mb)}m`;
    args.push('--memory', mem, '--memory-swap', mem);
  }
  if (r.cpus > 0) args.push('--cpus', String(r.cpus));
  args.push(...gpuArgs(o.engine, r.gpuIndices));
  args.push('-v', `${mountSource('workDir', spec.workDir)}:${CONTAINER_PATHS.src}:ro`);
  args.push('-v', `${mountSource('outputDir', spec.outputDir)}:${CONTAINER_PATHS.output}:rw`);
  spec.datasets.forEach((d, i) => {
    const src = mountSource(`datasets[${i}].hostPath`, d.hostPath);
    args.push('-v', `${src}:${CONTAINER_PATHS.data}/${d.name}:ro`);
  });
  args.push('--tmpfs', `${CONTAINER_PATHS.tmp}:rw,nosuid,nodev,size=${o.tmpSizeMb}m,mode=1777`);
  args.push('-w', CONTAINER_PATHS.src, '--env-file', o.envFile);
  for (const name of o.envNames) args.push('-e', name);
  args.push(o.image, ...spec.argv);
  return args;
}
