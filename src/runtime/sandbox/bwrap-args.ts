/**
 * @module runtime/sandbox/bwrap-args
 * The bubblewrap command line for one run, as a pure function of the spec and a probe of the host
 * root, so the exact isolation we apply can be unit-tested and shown by `describe`.
 *
 * Layout inside the sandbox: the host's system dirs read-only (`minimal`: /usr, /bin, /sbin,
 * /lib*, /etc, /opt — not /root, /home, /var, /srv, /work or the fetchml data dir, so a job cannot
 * read other runs, the database or keys), fresh /dev, /proc and a size-capped /tmp, the snapshot at
 * /work/src (read-only, the cwd), the output dir at /work/output (the only writable host path) and
 * datasets read-only at /work/data/<name>. Password hashes and SSH/TLS private keys under /etc are
 * masked. All namespaces are unshared (user, pid, net, ipc, uts, cgroup), all capabilities dropped,
 * and bwrap always sets no_new_privs.
 */
import { CONTAINER_PATHS } from '../env.ts';
import type { RunSpec } from '../types.ts';

/** A top-level entry of the host root: a real directory, or a symlink (merged /usr). */
export interface RootEntry {
  path: string;
  /** Link target when the host entry is a symlink (e.g. `usr/bin` for /bin). */
  symlink?: string;
}

/** What the host offers, probed once by the runtime. */
export interface HostLayout {
  /** Existing top-level system entries to expose (`minimal` rootfs). */
  roots: RootEntry[];
  /** Existing files to hide behind /dev/null. */
  maskFiles: string[];
  /** Existing directories to hide behind an empty tmpfs. */
  maskDirs: string[];
  /** Existing GPU device nodes (`/dev/nvidia*`), for `gpuIndices`. */
  gpuDevices: string[];
}

/** Sandbox layout choices. */
export interface BwrapLayoutOptions {
  /** `minimal`: system dirs only (default). `host`: the whole host root, read-only. */
  rootfs: 'minimal' | 'host';
  /** More host paths to expose read-only at the same path (a conda dir, a venv, a model cache). */
  extraReadOnly: string[];
  /** Size cap of the sandbox's /tmp (also $HOME), bytes. */
  tmpSizeBytes: number;
}

/** Top-level dirs exposed by the `minimal` rootfs when present. */
export const MINIMAL_ROOTS = [
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/etc',
  '/opt',
];
/** Files hidden from jobs (password hashes, sudo rules). */
export const MASK_FILES = [
  '/etc/shadow',
  '/etc/shadow-',
  '/etc/gshadow',
  '/etc/gshadow-',
  '/etc/sudoers',
];
/** Directories hidden from jobs (host keys, private keys, fetchml's own config). */
export const MASK_DIRS = ['/etc/ssh', '/etc/ssl/private', '/etc/sudoers.d', '/etc/fetchml'];
/** GPU control nodes bound whenever a GPU is assigned. */
export const GPU_CONTROL_NODES = [
  '/dev/nvidiactl',
  '/dev/nvidia-uvm',
  '/dev/nvidia-uvm-tools',
  '/dev/nvidia-modeset',
];

/** The bwrap options (without the binary and without the job argv). */
export function buildBwrapArgs(
  spec: RunSpec,
  host: HostLayout,
  opts: BwrapLayoutOptions,
): string[] {
  const a: string[] = ['--unshare-all'];
  if (spec.network === 'bridge') a.push('--share-net');
  a.push('--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--hostname', 'fetchml');

  if (opts.rootfs === 'host') a.push('--ro-bind', '/', '/');
  else {
    for (const r of host.roots) {
      if (r.symlink !== undefined) a.push('--symlink', r.symlink, r.path);
      else a.push('--ro-bind', r.path, r.path);
    }
    if (spec.network === 'bridge') {
      // resolv.conf is often a link into /run (systemd-resolved, NetworkManager).
      a.push('--ro-bind-try', '/run/systemd/resolve', '/run/systemd/resolve');
    }
    a.push('--ro-bind-try', '/sys', '/sys');
  }
  for (const p of opts.extraReadOnly) a.push('--ro-bind', p, p);

  a.push('--dev', '/dev', '--proc', '/proc');
  if (spec.resources.gpuIndices.length > 0) {
    const wanted = new Set([
      ...GPU_CONTROL_NODES,
      ...spec.resources.gpuIndices.map((i) => `/dev/nvidia${i}`),
    ]);
    for (const dev of host.gpuDevices) if (wanted.has(dev)) a.push('--dev-bind', dev, dev);
  }
  a.push('--size', String(opts.tmpSizeBytes), '--tmpfs', '/tmp');

  const p = CONTAINER_PATHS;
  a.push('--ro-bind', spec.workDir, p.src);
  a.push('--bind', spec.outputDir, p.output);
  if (spec.datasets.length === 0) a.push('--dir', p.data);
  for (const d of spec.datasets) a.push('--ro-bind', d.hostPath, `${p.data}/${d.name}`);

  for (const f of host.maskFiles) a.push('--ro-bind', '/dev/null', f);
  for (const d of host.maskDirs) a.push('--tmpfs', d, '--remount-ro', d);

  if (opts.rootfs === 'minimal') a.push('--remount-ro', '/');
  a.push('--chdir', p.src);
  return a;
}

/**
 * Maps a job-side path to the host path it shows, or null if the job cannot see it; used to
 * resolve `argv[0]` on the host exactly as execvp will inside the sandbox.
 */
export function sandboxPathToHost(
  jobPath: string,
  spec: RunSpec,
  host: HostLayout,
  opts: BwrapLayoutOptions,
): string | null {
  const p = CONTAINER_PATHS;
  const under = (prefix: string) => jobPath === prefix || jobPath.startsWith(`${prefix}/`);
  const rebase = (prefix: string, to: string) => to + jobPath.slice(prefix.length);
  if (under(p.src)) return rebase(p.src, spec.workDir);
  if (under(p.output)) return rebase(p.output, spec.outputDir);
  for (const d of spec.datasets) {
    const mount = `${p.data}/${d.name}`;
    if (under(mount)) return rebase(mount, d.hostPath);
  }
  if (under('/tmp') || under('/work')) return null;
  if (opts.rootfs === 'host') return jobPath;
  const visible = [...host.roots.map((r) => r.path), ...opts.extraReadOnly];
  return visible.some(under) ? jobPath : null;
}
