/**
 * @module runtime/proc-tree
 * Finds a process's descendants from /proc. Used to signal a job's processes when no cgroup lists
 * them: bwrap's sandboxed children live in their own session/process group (`--new-session`), so a
 * process-group kill alone would miss them, and SIGTERM to bwrap itself makes it SIGKILL the job
 * without the grace period.
 */
import { readdir, readFile } from 'node:fs/promises';

/** Parses the ppid out of /proc/<pid>/stat (comm may contain spaces and parentheses). */
function parsePpid(stat: string): number | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : null;
}

/** All live descendants of `root` (not `root` itself), parents before children. */
export async function descendants(root: number): Promise<number[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const children = new Map<number, number[]>();
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => null);
        const ppid = stat === null ? null : parsePpid(stat);
        if (ppid === null) return;
        const list = children.get(ppid) ?? [];
        list.push(Number(e));
        children.set(ppid, list);
      }),
  );
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Sends `signal` to each pid (negative = process group), ignoring ones that are gone. */
export function signalAll(pids: Iterable<number>, signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // ESRCH: already exited; EPERM: not ours — nothing more we can do.
    }
  }
}
