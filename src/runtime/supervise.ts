/**
 * @module runtime/supervise
 * Spawns one job process and watches it to the end: streams output as it arrives, enforces the
 * timeout, honours cancel, and escalates SIGTERM → (grace) → SIGKILL across every process of the
 * job. Shared by the `sandbox` and `process` runtimes so both stop jobs the same way.
 *
 * The child is spawned `detached` (its own session and process group), so `kill(-pgid)` reaches
 * everything it forks that stays in the group; cgroup members and /proc descendants cover the rest
 * (bwrap's `--new-session` children, jobs that call setsid). After the job exits, its process group
 * and cgroups are SIGKILLed, so background children never outlive the run.
 */
import { spawn } from 'node:child_process';

import { descendants, signalAll } from './proc-tree.ts';
import type { LimitPlan } from './limits.ts';
import type { RunSpec } from './types.ts';

/** Inputs of {@link supervise}. */
export interface SuperviseArgs {
  /** Full argv, wrappers included. */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  spec: Pick<RunSpec, 'timeoutMs' | 'signal' | 'onOutput'>;
  killGraceMs: number;
  limits: LimitPlan;
  /**
   * Whether SIGTERM also goes to the spawned process itself. `false` for bwrap: on SIGTERM it
   * exits and SIGKILLs the sandbox, which would skip the job's grace period; the job's own
   * processes get SIGTERM, and bwrap follows when they exit (or gets SIGKILL after the grace).
   */
  termLeader: boolean;
}

/** What happened, before runtime-specific interpretation. */
export interface SuperviseOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when we stopped it; null when it ended on its own. */
  stoppedFor: 'timeout' | 'cancelled' | null;
  /** Set when the process could not be started. */
  spawnError: Error | null;
  durationMs: number;
}

/** How long to wait for stdout/stderr to drain after exit before giving up on them. */
const DRAIN_MS = 1000;

/** Runs the process to completion. Never rejects for job failures. */
export function supervise(args: SuperviseArgs): Promise<SuperviseOutcome> {
  const started = performance.now();
  const { spec, limits } = args;
  const elapsed = () => Math.round(performance.now() - started);
  if (spec.signal.aborted) {
    return Promise.resolve({
      code: null,
      signal: null,
      stoppedFor: 'cancelled',
      spawnError: null,
      durationMs: 0,
    });
  }
  return new Promise((resolve) => {
    const [file, ...rest] = args.argv;
    if (file === undefined) throw new TypeError('supervise: empty argv');
    let stoppedFor: SuperviseOutcome['stoppedFor'] = null;
    let exited = false;
    let killTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;

    const child = spawn(file, rest, {
      cwd: args.cwd,
      env: args.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const leader = child.pid;

    const forward = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      try {
        spec.onOutput(stream, chunk);
      } catch {
        // A failing consumer must not kill the supervisor; the job keeps running.
      }
    };
    child.stdout.on('data', forward('stdout'));
    child.stderr.on('data', forward('stderr'));

    const jobPids = async (): Promise<Set<number>> => {
      const pids = new Set<number>(await limits.pids());
      if (leader !== undefined) for (const p of await descendants(leader)) pids.add(p);
      return pids;
    };

    const kill = async () => {
      if (leader === undefined) return;
      const pids = await jobPids();
      signalAll([-leader, leader, ...pids], 'SIGKILL');
    };

    const stop = (why: 'timeout' | 'cancelled') => {
      if (exited || stoppedFor !== null || leader === undefined) return;
      stoppedFor = why;
      void jobPids().then((pids) => {
        if (exited) return;
        if (args.termLeader) signalAll([-leader], 'SIGTERM');
        else pids.delete(leader);
        signalAll(pids, 'SIGTERM');
      });
      killTimer = setTimeout(() => void kill(), args.killGraceMs);
    };

    const onAbort = () => stop('cancelled');
    spec.signal.addEventListener('abort', onAbort, { once: true });
    if (spec.timeoutMs !== null && spec.timeoutMs >= 0) {
      timeoutTimer = setTimeout(() => stop('timeout'), spec.timeoutMs);
    }

    let finished = false;
    const finish = (outcome: Omit<SuperviseOutcome, 'stoppedFor'>) => {
      if (finished) return;
      finished = true;
      clearTimeout(killTimer);
      clearTimeout(timeoutTimer);
      spec.signal.removeEventListener('abort', onAbort);
      resolve({ ...outcome, stoppedFor });
    };

    child.once('error', (err) => {
      // Only spawn failures reach here in practice (ENOENT, EACCES); a running child exits instead.
      if (exited) return;
      exited = true;
      finish({ code: null, signal: null, spawnError: err, durationMs: elapsed() });
    });

    child.once('exit', (code, signal) => {
      if (exited) return;
      exited = true;
      const outcome = { code, signal, spawnError: null, durationMs: elapsed() };
      // Reap leftovers (background children) now, then give the pipes a moment to drain.
      if (leader !== undefined) signalAll([-leader], 'SIGKILL');
      void limits.pids().then((pids) => signalAll(pids, 'SIGKILL'));
      const drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(outcome);
      }, DRAIN_MS);
      let open = 2;
      const closed = () => {
        if (--open > 0) return;
        clearTimeout(drainTimer);
        finish(outcome);
      };
      for (const stream of [child.stdout, child.stderr]) {
        if (stream.closed) closed();
        else stream.once('close', closed);
      }
    });
  });
}
