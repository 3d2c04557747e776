/**
 * @module runtime/cgroup-v1
 * Per-run cgroup v1 groups (memory, cpu, pids), created under the worker's *own* cgroup of each
 * controller (read from /proc/self/cgroup) so limits nest under whatever already bounds the worker
 * (systemd unit, container). A cgroup is the only mechanism here that (a) limits resident memory
 * rather than address space, (b) lets us see OOM kills (`memory.oom_control: oom_kill`), and (c)
 * lists every process of the job, even ones that left the process group, so none is orphaned.
 *
 * cgroup v2 (unified, the default on current distros) needs a delegated subtree and is not
 * implemented yet: {@link createCgroups} then returns no groups and the caller falls back to rlimits.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The controllers we use. */
export type Controller = 'memory' | 'cpu' | 'pids';

/** Limits to apply; an undefined field leaves that controller out. */
export interface CgroupLimits {
  memoryBytes?: number;
  cpus?: number;
  pids?: number;
}

/** Created groups, one directory per controller that was writable. */
export interface CgroupSet {
  dirs: Partial<Record<Controller, string>>;
  /** Why a requested controller could not be used (for warnings). */
  failures: string[];
}

const CPU_PERIOD_US = 100_000;

/** The worker's own path in each v1 hierarchy, e.g. `memory → /system.slice/fetchml.service`. */
async function ownCgroupPaths(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const text = await readFile('/proc/self/cgroup', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [, controllers, path] = line.split(':');
    if (!controllers || path === undefined) continue;
    for (const c of controllers.split(',')) out.set(c, path);
  }
  return out;
}

/** Turns a task id into a safe directory name component. */
function groupName(taskId: string): string {
  const safe = taskId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return `fetchml-${safe}-${randomBytes(3).toString('hex')}`;
}

/**
 * Creates one group per requested controller and writes its limit. Controllers that are missing or
 * not writable (not root, read-only /sys/fs/cgroup, cgroup v2) are reported in `failures`.
 */
export async function createCgroups(
  root: string,
  taskId: string,
  limits: CgroupLimits,
): Promise<CgroupSet> {
  const own = await ownCgroupPaths();
  const name = groupName(taskId);
  const set: CgroupSet = { dirs: {}, failures: [] };
  const wanted: [Controller, (dir: string) => Promise<void>][] = [];
  if (limits.memoryBytes !== undefined) {
    const bytes = String(limits.memoryBytes);
    wanted.push([
      'memory',
      async (dir) => {
        await writeFile(join(dir, 'memory.limit_in_bytes'), bytes);
        // With swap accounting, also cap memory+swap so the job cannot swap past its limit.
        const memsw = join(dir, 'memory.memsw.limit_in_bytes');
        if (await exists(memsw)) await writeFile(memsw, bytes);
      },
    ]);
  }
  if (limits.cpus !== undefined) {
    const quota = Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US));
    wanted.push([
      'cpu',
      async (dir) => {
        await writeFile(join(dir, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
        await writeFile(join(dir, 'cpu.cfs_quota_us'), String(quota));
      },
    ]);
  }
  if (limits.pids !== undefined) {
    const max = String(limits.pids);
    wanted.push(['pids', (dir) => writeFile(join(dir, 'pids.max'), max)]);
  }
  for (const [controller, configure] of wanted) {
    const parent = own.get(controller);
    const hierarchy = join(root, controller);
    if (parent === undefined || !(await exists(join(hierarchy, 'cgroup.procs')))) {
      set.failures.push(`${controller}: no cgroup v1 hierarchy at ${hierarchy}`);
      continue;
    }
    const dir = join(hierarchy, parent, name);
    try {
      await mkdir(dir);
    } catch (err) {
      set.failures.push(`${controller}: cannot create ${dir}: ${(err as Error).message}`);
      continue;
    }
    try {
      await configure(dir);
      set.dirs[controller] = dir;
    } catch (err) {
      set.failures.push(`${controller}: cannot configure ${dir}: ${(err as Error).message}`);
      await rmdir(dir).catch(() => undefined);
    }
  }
  return set;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Every pid in any of the groups (union, deduplicated). */
export async function cgroupPids(set: CgroupSet): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of Object.values(set.dirs)) {
    const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (line.trim() !== '') pids.add(Number(line));
  }
  return [...pids];
}

/** Whether the kernel OOM killer killed a process of this group (`oom_kill` counter, kernel ≥ 4.13). */
export async function cgroupOomKilled(set: CgroupSet): Promise<boolean> {
  const dir = set.dirs.memory;
  if (dir === undefined) return false;
  const text = await readFile(join(dir, 'memory.oom_control'), 'utf8').catch(() => '');
  const m = /^oom_kill\s+(\d+)/m.exec(text);
  return m !== null && Number(m[1]) > 0;
}

/** SIGKILLs whatever is left, waits (≤ 2 s) until the groups are empty, removes them. */
export async function destroyCgroups(set: CgroupSet): Promise<string[]> {
  const problems: string[] = [];
  for (let i = 0; i < 40; i++) {
    const pids = await cgroupPids(set);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const dir of Object.values(set.dirs)) {
    await rmdir(dir).catch((err: Error) => problems.push(`cannot remove ${dir}: ${err.message}`));
  }
  return problems;
}

/**
 * The shell snippet that moves itself into the groups, then execs the job, so every process the
 * job ever forks starts inside them (no window between spawn and join). Usage:
 * `sh -c CGROUP_JOIN_SCRIPT fetchml-cgroup <dir>... -- <argv>...`. Exit 125 if a join fails.
 */
export const CGROUP_JOIN_SCRIPT =
  'while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs" || exit 125; shift; done; shift; exec "$@"';
