/**
 * @module runtime/podman/podman-runtime
 * The `podman` runtime: jobs in podman containers, driven through the CLI (no daemon or API
 * socket needed, which is what makes rootless podman work out of the box; see ../oci/oci-runtime.ts
 * for the shared run logic and why the CLI).
 *
 * Availability is proven, not assumed: `podman info` plus a trial container started from a
 * throw-away rootfs holding only a static binary (catatonit), so no image is needed and the probe
 * fails exactly where job containers would — for example crun/runc unable to set rlimits on hybrid
 * cgroups, which {@link podmanAdvice} turns into the containers.conf fix. `CONTAINERS_CONF` from
 * the worker's environment reaches podman (../oci/cli.ts).
 *
 * Rootless (podman info says so: the worker is not root): `--userns=keep-id` so the job's files in
 * output/ belong to the worker. On cgroup v1 rootless podman cannot apply resource limits: the
 * probe finds out ({@link podmanEngineInfo}), the run's limit report says `none`, and the
 * runtime's warnings — in every run's log and manifest, and in `fetchml doctor` — say so.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { OciRuntime } from '../oci/oci-runtime.ts';
import type { OciOptions } from '../oci/oci-runtime.ts';
import type { Availability, EngineInfo, ImageInfo, LimitReport, RunSpec } from '../types.ts';
import { makeWhich } from '../which.ts';

/** The containers.conf that makes podman work on hosts where crun/rlimits fail (as root). */
export const RUNC_CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
`;

const CONF_FIX =
  'install runc (apt-get install runc), write a containers.conf with:\n' +
  RUNC_CONTAINERS_CONF.trimEnd() +
  '\nfor example to /etc/containers/fetchml.conf, and start the worker with CONTAINERS_CONF=/etc/containers/fetchml.conf (docs/runtimes.md)';

/** What to do about a podman failure, from its error output. */
export function podmanAdvice(stderr: string, env: Record<string, string> = {}): string {
  if (/rlimit|crun|cgroup/i.test(stderr)) {
    const conf = env['CONTAINERS_CONF'];
    return conf
      ? `CONTAINERS_CONF=${conf} is set but podman still fails: check that file; it needs:\n${RUNC_CONTAINERS_CONF.trimEnd()}`
      : `the OCI runtime fails here (hybrid cgroups / rlimits): ${CONF_FIX}`;
  }
  if (/newuidmap|subuid|subgid|user namespace/i.test(stderr)) {
    return 'rootless podman needs subordinate ids: apt-get install uidmap; usermod --add-subuids 100000-165535 --add-subgids 100000-165535 <worker user>';
  }
  if (/catatonit|init binary/i.test(stderr))
    return 'install catatonit (apt-get install catatonit) for --init';
  return 'see docs/runtimes.md (podman setup)';
}

/** The runtime warning when rootless podman cannot apply limits (cgroup v1). */
export const ROOTLESS_V1_WARNING =
  'rootless podman on cgroup v1: memory, cpu and pids limits are NOT enforced (podman ignores them); ' +
  'run the worker as root, or on a cgroup v2 host with systemd delegation, to enforce them (docs/runtimes.md)';

/** Where podman's init binary usually is (a static binary: the probe's rootfs). */
const CATATONIT = [
  '/usr/libexec/podman/catatonit',
  '/usr/bin/catatonit',
  '/usr/local/libexec/podman/catatonit',
];

/**
 * The engine facts from `podman info` (`{{.Host.CgroupsVersion}}`, `{{.Host.Security.Rootless}}`):
 * rootless podman on cgroup v1 ignores `--memory`, `--cpus` and `--pids-limit` ("Resource limits
 * are not supported and ignored on cgroups V1 rootless systems").
 */
export function podmanEngineInfo(cgroups: string, rootless: string): EngineInfo {
  const isRootless =
    rootless.trim() === '' ? (process.getuid?.() ?? 0) !== 0 : rootless.trim() === 'true';
  const version = cgroups.trim() === 'v2' ? 'v2' : 'v1';
  return {
    rootless: isRootless,
    cgroups: version,
    limitsEnforced: !(isRootless && version === 'v1'),
  };
}

/** Runs jobs in podman containers. */
export class PodmanRuntime extends OciRuntime {
  readonly name = 'podman' as const;
  protected readonly inspectFormat = '{{.Id}}|{{.Digest}}';
  /** What the probe found (null until a probe succeeded). */
  private engine: EngineInfo | null = null;

  constructor(options: OciOptions = {}) {
    super(options);
  }

  /** Static caveats; after a probe, also that limits are not enforced when that is the case. */
  get warnings(): readonly string[] {
    return this.engine !== null && !this.engine.limitsEnforced ? [ROOTLESS_V1_WARNING] : [];
  }

  protected installHint(): string {
    return 'apt-get install podman runc uidmap slirp4netns catatonit (docs/runtimes.md)';
  }

  protected async probe(): Promise<Availability> {
    const info = await this.cli([
      'info',
      '--format',
      '{{.Host.OCIRuntime.Name}}|{{.Host.CgroupsVersion}}|{{.Host.Security.Rootless}}',
    ]);
    if (info.code !== 0) {
      const err = (info.stderr || info.error || '').trim();
      return { ok: false, reason: `podman info failed: ${err}; ${podmanAdvice(err, this.env)}` };
    }
    const [, cgroups = '', rootless = ''] = info.stdout.trim().split('|');
    const engine = podmanEngineInfo(cgroups, rootless);
    const trial = await this.trialRun();
    if (trial !== null) {
      return {
        ok: false,
        reason: `podman cannot start containers: ${trial}; ${podmanAdvice(trial, this.env)}`,
      };
    }
    this.engine = engine;
    return { ok: true, engine };
  }

  /** Starts a container from a rootfs with only catatonit in it; returns the error, or null. */
  private async trialRun(): Promise<string | null> {
    const which = makeWhich();
    let init: string | null = null;
    for (const candidate of CATATONIT) if ((init = await which(candidate)) !== null) break;
    if (init === null) return null; // nothing static to run: `podman info` is all we can check
    const root = await mkdtemp(join(tmpdir(), 'fetchml-podman-probe-'));
    try {
      await copyFile(init, join(root, 'probe'));
      const r = await this.cli([
        ...['run', '--rm', '--network', 'none', '--read-only', '--log-driver', 'none'],
        ...['--cap-drop', 'ALL', '--pids-limit', '64', '--rootfs', root, '/probe', '--version'],
      ]);
      return r.code === 0 ? null : (r.stderr || r.error || `exit ${r.code}`).trim();
    } finally {
      await rm(root, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  protected runMode(spec: RunSpec): { userns?: string; limits: LimitReport; warnings: string[] } {
    const r = spec.resources;
    const rootless = this.engine?.rootless ?? (process.getuid?.() ?? 0) !== 0;
    const enforced = this.engine?.limitsEnforced === false ? 'none' : 'cgroup';
    const limits: LimitReport = {
      memory: r.memory_mb != null && r.memory_mb > 0 ? enforced : 'none',
      cpu: r.cpus > 0 ? enforced : 'none',
      pids: enforced,
    };
    // Not enforced: the runtime's warnings say so (in every run's log and manifest).
    return { ...(rootless ? { userns: 'keep-id' } : {}), limits, warnings: [] };
  }

  protected parseImage(reference: string, line: string): ImageInfo {
    const [rawId = '', digest = ''] = line.split('|');
    const id = rawId.startsWith('sha256:') ? rawId : `sha256:${rawId}`;
    return { reference, id, digest: digest.startsWith('sha256:') ? digest : id };
  }
}
