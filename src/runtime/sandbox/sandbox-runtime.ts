/**
 * @module runtime/sandbox/sandbox-runtime
 * The `sandbox` runtime: runs the job under bubblewrap on the host's own root filesystem (no
 * image), with every namespace unshared, no network unless asked, a read-only view of the system,
 * and only the output dir writable. It starts in milliseconds and needs no daemon, which makes it
 * the fallback when neither podman nor docker is usable.
 *
 * Limits come from {@link planLimits}: cgroup v1 groups when /sys/fs/cgroup is writable (root),
 * else `prlimit --as`. bwrap is started as the last link of the wrapper exec chain, so the spawned
 * pid *is* bwrap; it runs with `--die-with-parent`, and its pid namespace means every job process
 * dies with the sandbox's init.
 */
import { FetchmlError } from '../../core/errors.ts';
import { buildJobEnv, CONTAINER_PATHS } from '../env.ts';
import { runOnHost } from '../host-run.ts';
import { resolveCommand } from '../resolve-command.ts';
import { checkStagedDirs, validateRunSpec } from '../validate.ts';
import { makeWhich, probe } from '../which.ts';
import type { Which } from '../which.ts';
import type { Availability, RunResult, RunSpec, Runtime, RuntimeOptions } from '../types.ts';
import { DEFAULT_PATH } from '../types.ts';
import { buildBwrapArgs, sandboxPathToHost } from './bwrap-args.ts';
import type { BwrapLayoutOptions, HostLayout } from './bwrap-args.ts';
import { probeHostLayout } from './host-layout.ts';

/** Options of the sandbox runtime. */
export interface SandboxOptions extends RuntimeOptions {
  /** bwrap binary; found on PATH when omitted. */
  bwrapPath?: string;
  /** `minimal` (default): system dirs only. `host`: the whole host root read-only. */
  rootfs?: 'minimal' | 'host';
  /** Extra host paths exposed read-only at the same path (conda, venvs, model caches). */
  extraReadOnly?: string[];
  /** Size cap of the job's /tmp (= $HOME), MiB. @default 1024 */
  tmpSizeMb?: number;
  /** How to find bwrap. @default makeWhich(options.path) */
  which?: Which;
}

/** Runs jobs under bubblewrap. Construct via {@link detectRuntime} or directly. */
export class SandboxRuntime implements Runtime {
  readonly name = 'sandbox' as const;
  readonly isolation = 'sandbox' as const;
  readonly warnings: readonly string[] = [
    'sandbox runtime: the job runs on the host root filesystem (read-only, system dirs only), not in an image',
  ];
  private readonly options: SandboxOptions;
  private availability: Promise<Availability> | undefined;
  private bwrap: string | null = null;
  private layout: Promise<HostLayout> | undefined;

  constructor(options: SandboxOptions = {}) {
    this.options = options;
  }

  private layoutOptions(): BwrapLayoutOptions {
    return {
      rootfs: this.options.rootfs ?? 'minimal',
      extraReadOnly: this.options.extraReadOnly ?? [],
      tmpSizeBytes: (this.options.tmpSizeMb ?? 1024) * 1024 * 1024,
    };
  }

  /** bwrap present and able to create the namespaces (probed once, ~tens of ms). */
  available(): Promise<Availability> {
    this.availability ??= (async (): Promise<Availability> => {
      const which = this.options.which ?? makeWhich(this.options.path);
      const bwrap = this.options.bwrapPath ?? (await which('bwrap'));
      if (bwrap === null) {
        return {
          ok: false,
          reason: 'bwrap not found: install bubblewrap (apt-get install bubblewrap)',
        };
      }
      const trial = await probe(bwrap, [
        ...['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/'],
        ...['--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', 'true'],
      ]);
      if (!trial.ok) {
        return {
          ok: false,
          reason: `bwrap cannot create a sandbox here (user namespaces disabled?): ${trial.stderr.trim()}`,
        };
      }
      this.bwrap = bwrap;
      return { ok: true };
    })();
    return this.availability;
  }

  async version(): Promise<string> {
    const avail = await this.available();
    if (!avail.ok || this.bwrap === null) return 'unavailable';
    const out = await probe(this.bwrap, ['--version']);
    return out.stdout.trim() || 'bubblewrap (unknown version)';
  }

  /** The full argv (bwrap and its options, then the job) for a spec; for tests and `describe`. */
  async commandLine(spec: RunSpec): Promise<string[]> {
    const avail = await this.available();
    if (!avail.ok || this.bwrap === null) {
      throw new FetchmlError('ML_ERR_RUNTIME_UNAVAILABLE', `sandbox runtime: ${avail.reason}`);
    }
    this.layout ??= probeHostLayout();
    const args = buildBwrapArgs(spec, await this.layout, this.layoutOptions());
    return [this.bwrap, ...args, '--', ...spec.argv];
  }

  async run(spec: RunSpec): Promise<RunResult> {
    validateRunSpec(spec);
    await checkStagedDirs(spec);
    const argv = await this.commandLine(spec);
    const layout = await (this.layout ??= probeHostLayout());
    const env = buildJobEnv(spec, CONTAINER_PATHS, this.options.path ?? DEFAULT_PATH);
    const warnings: string[] = [];
    if (spec.image) {
      warnings.push(
        `image ${spec.image} ignored: the sandbox runtime uses the host root filesystem`,
      );
    }
    if (spec.network === 'bridge') {
      warnings.push("network 'bridge' in the sandbox runtime shares the host's network namespace");
    }

    const command = spec.argv[0] as string;
    const pathVar = env['PATH'] ?? DEFAULT_PATH;
    const resolved = await resolveCommand(command, pathVar, CONTAINER_PATHS.src, (p) =>
      sandboxPathToHost(p, spec, layout, this.layoutOptions()),
    );
    return runOnHost({
      spec,
      argv,
      cwd: '/',
      env,
      commandFound: resolved !== null,
      options: this.options,
      warnings,
      termLeader: false,
      codeEncodesSignal: true,
    });
  }
}
