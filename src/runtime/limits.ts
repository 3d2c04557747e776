/**
 * @module runtime/limits
 * Applies a run's resource limits the best way the host allows, and says which way it used.
 *
 * Order of preference per limit:
 * - memory: cgroup v1 `memory.limit_in_bytes` (resident memory; OOM kill is detectable) →
 *   `prlimit --as` (address space: a large allocation fails with ENOMEM/MemoryError instead of a
 *   kill; programs that reserve big virtual ranges — JVM, Go, CUDA — may fail below the limit).
 * - cpu: cgroup v1 CFS quota (`cpus` × 100 ms per 100 ms) → not enforced (no rlimit equivalent).
 * - pids: cgroup v1 `pids.max` → `prlimit --nproc` when not root (it counts every process of the
 *   uid, and root ignores it) → not enforced.
 *
 * Both runtimes use the result the same way: wrap the argv with {@link LimitPlan.wrap}, ask for the
 * job's processes with {@link LimitPlan.pids}, and call {@link LimitPlan.dispose} when done.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';

import {
  CGROUP_JOIN_SCRIPT,
  cgroupOomKilled,
  cgroupPids,
  createCgroups,
  destroyCgroups,
} from './cgroup-v1.ts';
import type { CgroupLimits, CgroupSet } from './cgroup-v1.ts';
import type { LimitReport, RunResources } from './types.ts';

/** Default pids limit when the spec gives none. */
export const DEFAULT_PIDS_LIMIT = 4096;

/** How limits are applied to one run. */
export interface LimitPlan {
  report: LimitReport;
  /** Caveats about how (or whether) limits are enforced. */
  warnings: string[];
  /** Prefixes `argv` with the cgroup join and/or prlimit wrappers (exec chain; same pid). */
  wrap(argv: string[]): string[];
  /** Every process in the job's cgroups (empty without cgroups). */
  pids(): Promise<number[]>;
  /** Whether the kernel OOM-killed a job process (only knowable with a memory cgroup). */
  oomKilled(): Promise<boolean>;
  /** Kills leftovers and removes the cgroups; returns problems (for warnings), never throws. */
  dispose(): Promise<string[]>;
}

/** Options for {@link planLimits}. */
export interface PlanLimitsOptions {
  /** Try cgroups at all. @default true */
  cgroups?: boolean;
  /** @default '/sys/fs/cgroup' */
  cgroupRoot?: string;
}

const PRLIMIT_CANDIDATES = ['/usr/bin/prlimit', '/bin/prlimit'];

async function findPrlimit(): Promise<string | null> {
  for (const p of PRLIMIT_CANDIDATES) {
    const ok = await access(p, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok) return p;
  }
  return null;
}

/** Creates cgroups / chooses rlimits for `resources`. The caller must call `dispose()`. */
export async function planLimits(
  taskId: string,
  resources: RunResources,
  options: PlanLimitsOptions = {},
): Promise<LimitPlan> {
  const memoryBytes =
    resources.memory_mb != null && resources.memory_mb > 0
      ? Math.floor(resources.memory_mb * 1024 * 1024)
      : undefined;
  const wanted: CgroupLimits = {
    memoryBytes,
    cpus: resources.cpus > 0 ? resources.cpus : undefined,
    pids: resources.pids ?? DEFAULT_PIDS_LIMIT,
  };
  const set: CgroupSet =
    options.cgroups === false
      ? { dirs: {}, failures: ['cgroups disabled by configuration'] }
      : await createCgroups(options.cgroupRoot ?? '/sys/fs/cgroup', taskId, wanted);

  const report: LimitReport = { memory: 'none', cpu: 'none', pids: 'none' };
  const warnings: string[] = [];
  const rlimitArgs: string[] = [];
  const isRoot = process.getuid?.() === 0;

  if (wanted.memoryBytes !== undefined) {
    if (set.dirs.memory) report.memory = 'cgroup';
    else {
      rlimitArgs.push(`--as=${wanted.memoryBytes}`);
      report.memory = 'rlimit';
      warnings.push(
        'memory limit enforced as an address-space rlimit (no writable memory cgroup): allocations fail instead of an OOM kill',
      );
    }
  }
  if (wanted.cpus !== undefined) {
    if (set.dirs.cpu) report.cpu = 'cgroup';
    else warnings.push('cpu limit not enforced (no writable cpu cgroup)');
  }
  if (set.dirs.pids) report.pids = 'cgroup';
  else if (!isRoot && wanted.pids !== undefined) {
    rlimitArgs.push(`--nproc=${wanted.pids}`);
    report.pids = 'rlimit';
  }

  const prlimit = rlimitArgs.length > 0 ? await findPrlimit() : null;
  if (rlimitArgs.length > 0 && prlimit === null) {
    warnings.push('prlimit (util-linux) not found: rlimits not applied');
    if (report.memory === 'rlimit') report.memory = 'none';
    if (report.pids === 'rlimit') report.pids = 'none';
  }
  const dirs = Object.values(set.dirs);

  return {
    report,
    warnings,
    wrap(argv) {
      const limited = prlimit ? [prlimit, ...rlimitArgs, '--', ...argv] : argv;
      if (dirs.length === 0) return limited;
      return ['/bin/sh', '-c', CGROUP_JOIN_SCRIPT, 'fetchml-cgroup', ...dirs, '--', ...limited];
    },
    pids: () => cgroupPids(set),
    oomKilled: () => cgroupOomKilled(set),
    dispose: () => destroyCgroups(set),
  };
}
