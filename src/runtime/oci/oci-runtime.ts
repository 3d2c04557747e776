/**
 * @module runtime/oci/oci-runtime
 * What podman and docker share: images, the run itself, stopping, OOM and stale containers. The
 * engine-specific parts (availability probe and its advice, rootless handling, version) are in
 * ../podman and ../docker.
 *
 * Why the CLI and not the engines' HTTP API: rootless podman has no daemon and no API socket
 * unless a user service is enabled, while the `podman` binary always works; and `docker run`
 * takes the same flags, so one argument builder (./args.ts) serves both engines and keeps the
 * isolation defaults in one place. Attaching to the client also gives us the job's output as a
 * plain pipe, with no log driver in between. The cost is ~one engine process start per run (tens
 * of ms), small next to container creation.
 *
 * Output dir ownership: the job runs as a non-root user. When the worker is root, that is
 * `65534:65534` (nobody — never a real host account) and the output dir is chowned to it before
 * the run; when the worker is not root, the job runs as the worker's own uid (podman:
 * `--userns=keep-id`), so files in output/ belong to the worker either way.
 */
import { chown } from 'node:fs/promises';

import { FetchmlError } from '../../core/errors.ts';
import { buildJobEnv, CONTAINER_PATHS } from '../env.ts';
import { resolveCommand } from '../resolve-command.ts';
import { commandNotFound } from '../result.ts';
import type {
  Availability,
  ImageInfo,
  LimitReport,
  RunResult,
  RunSpec,
  Runtime,
  RuntimeOptions,
} from '../types.ts';
import { DEFAULT_PATH } from '../types.ts';
import { checkStagedDirs, validateRunSpec } from '../validate.ts';
import { makeWhich } from '../which.ts';
import type { Which } from '../which.ts';
import { buildOciRunArgs, containerName, LABEL_WORKER } from './args.ts';
import type { Engine } from './args.ts';
import { cliError, engineEnvFrom, runCli } from './cli.ts';
import { writeEnvFile } from './env-file.ts';
import { containerResult, NO_IMAGE } from './outcome.ts';
import { runContainer } from './run-container.ts';

/** Options shared by the podman and docker runtimes. */
export interface OciOptions extends RuntimeOptions {
  /** Engine binary; found on PATH when omitted. */
  bin?: string;
  /** How to find the engine binary. @default makeWhich(engineEnv.PATH) */
  which?: Which;
  /** Worker id, written into the `fetchml.worker` label of every container. @default 'unknown' */
  workerId?: string;
  /** `uid:gid` of the job when the worker is root. @default '65534:65534' */
  user?: string;
  /** Size cap of the job's /tmp, MiB. @default 1024 */
  tmpSizeMb?: number;
  /** Image for specs that name none; without it such a spec fails with ML_ERR_IMAGE_UNAVAILABLE. */
  defaultImage?: string;
  /** The engine's environment. @default engineEnvFrom(process.env) (CONTAINERS_CONF, ...) */
  engineEnv?: Record<string, string>;
  /** Where per-run env files are written. @default os.tmpdir() */
  scratchRoot?: string;
}

/** How long a resolved image is trusted without asking the engine again. */
const IMAGE_CACHE_MS = 60_000;
let counter = 0;

/** The podman/docker runtime (see the module doc). Construct a subclass. */
export abstract class OciRuntime implements Runtime {
  abstract readonly name: Engine;
  readonly isolation = 'container' as const;
  abstract readonly warnings: readonly string[];
  protected readonly options: OciOptions;
  protected readonly env: Record<string, string>;
  private binPath: Promise<string | null> | undefined;
  private availability: Promise<Availability> | undefined;
  private readonly images = new Map<string, { info: ImageInfo; at: number }>();

  constructor(options: OciOptions = {}) {
    this.options = options;
    this.env = options.engineEnv ?? engineEnvFrom(process.env);
  }

  /** Engine-specific: probe that the engine can run containers; `bin` is found. */
  protected abstract probe(): Promise<Availability>;
  /** Engine-specific: `--userns` when rootless, the limits actually enforced, extra warnings. */
  protected abstract runMode(spec: RunSpec): {
    userns?: string;
    limits: LimitReport;
    warnings: string[];
  };
  /** Engine-specific: `image inspect` format and parsing. */
  protected abstract parseImage(reference: string, stdout: string): ImageInfo;
  protected abstract readonly inspectFormat: string;

  /** The engine binary, or null. */
  protected bin(): Promise<string | null> {
    this.binPath ??= this.options.bin
      ? Promise.resolve(this.options.bin)
      : (this.options.which ?? makeWhich(this.env['PATH']))(this.name);
    return this.binPath;
  }

  /** Runs `<engine> args` (short commands). */
  protected async cli(args: string[], timeoutMs?: number) {
    const bin = await this.bin();
    if (bin === null) return { code: null, stdout: '', stderr: `${this.name} not found` };
    return runCli(bin, args, this.env, timeoutMs);
  }

  available(): Promise<Availability> {
    this.availability ??= (async () => {
      const bin = await this.bin();
      if (bin === null) {
        return { ok: false, reason: `${this.name} not found on PATH: ${this.installHint()}` };
      }
      return this.probe();
    })();
    return this.availability;
  }

  /** What to install when the binary is missing. */
  protected abstract installHint(): string;

  async version(): Promise<string> {
    const r = await this.cli(['--version']);
    return r.code === 0 ? r.stdout.trim() : 'unavailable';
  }

  async resolveImage(image: string | null): Promise<ImageInfo> {
    const reference = image ?? this.options.defaultImage ?? null;
    if (reference === null) {
      throw new FetchmlError(
        'ML_ERR_IMAGE_UNAVAILABLE',
        `the ${this.name} runtime needs an image: set 'image:' in fetchml.yaml (for example image: localhost/fetchml-python:latest)`,
        { details: { image: null, runtime: this.name } },
      );
    }
    const cached = this.images.get(reference);
    if (cached && performance.now() - cached.at < IMAGE_CACHE_MS) return cached.info;
    const r = await this.cli(['image', 'inspect', '--format', this.inspectFormat, reference]);
    if (r.code !== 0 || r.stdout.trim() === '') {
      this.images.delete(reference);
      const detail = cliError(r);
      // Only "no such image" means missing; anything else (engine down, a template the client
      // rejects) is the engine failing, which must not read as "load the image".
      if (r.code !== null && (r.code === 0 || NO_IMAGE.test(detail))) {
        throw this.imageMissing(reference, detail);
      }
      throw new FetchmlError(
        'ML_ERR_RUNTIME_FAILED',
        `${this.name} image inspect ${reference} failed: ${detail}`,
        { details: { image: reference, runtime: this.name } },
      );
    }
    const info = this.parseImage(reference, r.stdout.trim().split('\n')[0] as string);
    this.images.set(reference, { info, at: performance.now() });
    return info;
  }

  private imageMissing(reference: string, detail: string): FetchmlError {
    const e = this.name;
    return new FetchmlError(
      'ML_ERR_IMAGE_UNAVAILABLE',
      `image ${reference} is not available to ${e} on this worker (${detail}); fetchml does not pull images. ` +
        `Provide it on the worker host: '${e} load -i image.tar', '${e} import rootfs.tar ${reference}', ` +
        `'${e} build -t ${reference} .', or '${e} pull ${reference}' where a registry is reachable`,
      { details: { image: reference, runtime: e } },
    );
  }

  async cleanupStale(workerId: string): Promise<string[]> {
    const filter = `label=${LABEL_WORKER}=${workerId}`;
    const ls = await this.cli(['ps', '-a', '--filter', filter, '--format', '{{.Names}}']);
    if (ls.code !== 0) return [];
    const names = ls.stdout.split('\n').filter((n) => n.trim() !== '');
    if (names.length > 0) await this.cli(this.rmArgs(names), 60_000);
    return names;
  }

  /** Force-removes containers without waiting for a stop timeout (podman: `-t 0`). */
  protected rmArgs(names: string[]): string[] {
    return this.name === 'podman'
      ? ['rm', '-f', '--ignore', '-t', '0', ...names]
      : ['rm', '-f', ...names];
  }

  /** The uid:gid the job runs as, and whether output/ must be chowned to it. */
  private jobUser(): { user: string; chownTo: [number, number] | null } {
    const uid = process.getuid?.() ?? 0;
    if (uid !== 0) return { user: `${uid}:${process.getgid?.() ?? uid}`, chownTo: null };
    const user = this.options.user ?? '65534:65534';
    const [u, g] = user.split(':').map(Number);
    return {
      user,
      chownTo: Number.isInteger(u)
        ? [u as number, Number.isInteger(g) ? (g as number) : (u as number)]
        : null,
    };
  }

  async run(spec: RunSpec): Promise<RunResult> {
    validateRunSpec(spec);
    await checkStagedDirs(spec);
    const avail = await this.available();
    const bin = await this.bin();
    if (!avail.ok || bin === null) {
      throw new FetchmlError('ML_ERR_RUNTIME_UNAVAILABLE', `${this.name}: ${avail.reason}`);
    }
    const image = await this.resolveImage(spec.image ?? null);
    const mode = this.runMode(spec);
    const warnings = [...mode.warnings];
    const killGraceMs = this.options.killGraceMs ?? 5000;
    const env = buildJobEnv(spec, CONTAINER_PATHS, this.options.path ?? DEFAULT_PATH);
    // Inside the container only the assigned GPUs exist, renumbered from 0.
    env['CUDA_VISIBLE_DEVICES'] = spec.resources.gpuIndices.map((_, i) => i).join(',');

    const command = spec.argv[0] as string;
    if (command.includes('/') && !command.startsWith('/')) {
      // A relative command lives in the snapshot: check it on the host side of the mount.
      const found = await resolveCommand(command, '', CONTAINER_PATHS.src, (p) =>
        p.startsWith(`${CONTAINER_PATHS.src}/`)
          ? `${spec.workDir}${p.slice(CONTAINER_PATHS.src.length)}`
          : null,
      );
      if (found === null) return commandNotFound(command, env['PATH'] ?? '', mode.limits, warnings);
    }
    const { user, chownTo } = this.jobUser();
    if (chownTo !== null) await chown(spec.outputDir, chownTo[0], chownTo[1]);

    const envFile = await writeEnvFile(env, this.options.scratchRoot);
    warnings.push(...envFile.warnings);
    const name = containerName(spec.taskId, ++counter);
    try {
      const args = buildOciRunArgs(spec, {
        engine: this.name,
        name,
        workerId: this.options.workerId ?? 'unknown',
        image: image.reference,
        user,
        ...(mode.userns === undefined ? {} : { userns: mode.userns }),
        envFile: envFile.path,
        envNames: envFile.names,
        tmpSizeMb: this.options.tmpSizeMb ?? 1024,
      });
      const outcome = await runContainer({
        bin,
        args,
        env: { ...this.env, ...envFile.values },
        name,
        rmArgs: this.rmArgs([name]),
        spec,
        killGraceMs,
      });
      if (outcome.code === 125 && NO_IMAGE.test(outcome.stderrTail)) {
        this.images.delete(image.reference);
        throw this.imageMissing(image.reference, 'removed while the job started');
      }
      return containerResult(outcome, {
        engine: this.name,
        spec,
        image: image.reference,
        killGraceMs,
        limits: mode.limits,
        warnings,
      });
    } finally {
      await envFile.cleanup();
    }
  }
}
