/**
 * @module audit/lock
 * An advisory lock between processes on one host (the server and `fetchml user`/`ban` commands
 * appending to the same audit log): a lock file created with `O_CREAT|O_EXCL` holding the
 * owner's pid. Node has no `flock`, and the lock is held only for one append (a write and an
 * fsync), so waiters poll every few milliseconds. A lock whose owner is gone (crashed mid-append)
 * or that is older than {@link STALE_LOCK_MS} is removed by the next waiter.
 */
import { open, readFile, stat, unlink } from 'node:fs/promises';

import { FetchmlError } from '../core/errors.ts';

/** A lock older than this is stale whoever holds it (an append takes milliseconds). */
export const STALE_LOCK_MS = 30_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the lock at `path` may be removed: its owner is gone or it is too old. */
async function isStale(path: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    if (Date.now() - info.mtimeMs > STALE_LOCK_MS) return true;
    const pid = Number.parseInt(text, 10);
    // Empty: the owner created it and has not written its pid yet.
    return Number.isSafeInteger(pid) && pid > 0 && !alive(pid);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // released meanwhile
    throw err;
  }
}

async function tryAcquire(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx', 0o600);
    try {
      await fh.writeFile(`${process.pid}\n`);
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Runs `fn` holding the lock file `path`; gives up with ML_ERR_UNAVAILABLE after `timeoutMs`. */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (!(await tryAcquire(path))) {
    if (await isStale(path)) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new FetchmlError(
        'ML_ERR_UNAVAILABLE',
        `${path} is held by another process for more than ${timeoutMs} ms; if no fetchml process is writing, remove it`,
      );
    }
    await new Promise((r) => setTimeout(r, 1 + Math.random() * 4));
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
