/**
 * @module runtime/docker/docker-runtime
 * The `docker` runtime: jobs in docker containers, through the same CLI arguments as podman
 * (../oci/args.ts, ../oci/oci-runtime.ts). Docker needs a reachable engine (dockerd or
 * DOCKER_HOST); a docker client without one is reported unavailable with what to do, and `auto`
 * moves on to the sandbox.
 *
 * The daemon is usually root, so resource limits are cgroup-enforced; a rootless daemon
 * (`docker info` security option `name=rootless`) on cgroup v1 cannot apply them, which the probe
 * finds and the runtime's warnings say. A worker that is not root runs the job as its own uid
 * (files in output/ stay the worker's); a root worker runs it as 65534.
 */
import { OciRuntime } from '../oci/oci-runtime.ts';
import type { OciOptions } from '../oci/oci-runtime.ts';
import type { Availability, EngineInfo, ImageInfo, LimitReport, RunSpec } from '../types.ts';

/** Runs jobs in docker containers. */
export class DockerRuntime extends OciRuntime {
  readonly name = 'docker' as const;
  /** What the probe found (null until a probe succeeded). */
  private engine: EngineInfo | null = null;
  // `json`, not `join`: newer clients decode RepoDigests as []interface{}, which `join` refuses.
  protected readonly inspectFormat = '{{.Id}}|{{json .RepoDigests}}';

  constructor(options: OciOptions = {}) {
    super(options);
  }

  /** After a probe: that limits are not enforced, when the daemon is rootless on cgroup v1. */
  get warnings(): readonly string[] {
    return this.engine !== null && !this.engine.limitsEnforced
      ? [
          'rootless docker daemon on cgroup v1: memory, cpu and pids limits are NOT enforced; use a rootful daemon or a cgroup v2 host (docs/runtimes.md)',
        ]
      : [];
  }

  protected installHint(): string {
    return 'install Docker Engine (docker.io) or use podman (docs/runtimes.md)';
  }

  protected async probe(): Promise<Availability> {
    const r = await this.cli(
      ['info', '--format', '{{.ServerVersion}}|{{json .SecurityOptions}}|{{.CgroupVersion}}'],
      10_000,
    );
    const [server = '', security = '', cgroups = ''] = r.stdout.trim().split('|');
    if (r.code === 0 && server !== '') {
      const rootless = security.includes('name=rootless');
      const version = cgroups.trim() === '2' ? 'v2' : 'v1';
      this.engine = {
        rootless,
        cgroups: version,
        limitsEnforced: !(rootless && version === 'v1'),
      };
      return { ok: true, engine: this.engine };
    }
    const err = (r.stderr || r.error || '').trim().split('\n')[0] ?? '';
    return {
      ok: false,
      reason: `the docker client is installed but no engine is reachable (${err}): start dockerd (systemctl start docker), set DOCKER_HOST, or use podman`,
    };
  }

  protected runMode(spec: RunSpec): { limits: LimitReport; warnings: string[] } {
    const r = spec.resources;
    const enforced = this.engine?.limitsEnforced === false ? 'none' : 'cgroup';
    return {
      limits: {
        memory: r.memory_mb != null && r.memory_mb > 0 ? enforced : 'none',
        cpu: r.cpus > 0 ? enforced : 'none',
        pids: enforced,
      },
      warnings: [],
    };
  }

  protected parseImage(reference: string, line: string): ImageInfo {
    const bar = line.indexOf('|');
    const id = bar < 0 ? line : line.slice(0, bar);
    let digests: unknown = [];
    try {
      digests = JSON.parse(bar < 0 ? '[]' : line.slice(bar + 1));
    } catch {
      digests = [];
    }
    const repoDigest = Array.isArray(digests)
      ? digests.find((d): d is string => typeof d === 'string' && d.includes('@sha256:'))
      : undefined;
    return { reference, id, digest: repoDigest ? (repoDigest.split('@')[1] as string) : id };
  }
}
