/**
 * @module blobs/fs/temp-files
 * Temp files of in-progress writes, and the cleanup of those left by a killed process.
 *
 * The rule: `init()` deletes temp files whose mtime is older than `staleTempMs` (default 1 hour).
 * A live writer touches its temp file with every chunk it writes, so only a writer that has been
 * silent for that long can lose its temp file; its `put` then fails (the rename finds no file)
 * instead of storing anything partial. Deleting *all* temp files would be safe only if no other
 * process could be writing, and nothing here can prove that (another server or worker may share
 * the directory), so age is the rule. An operator who knows the store is idle (e.g. `fetchml
 * doctor` with everything stopped) may call `cleanTempFiles(0)`.
 */
import { randomUUID } from 'node:crypto';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { hasErrno } from './errno.ts';
import { TEMP_DIR } from './layout.ts';

/** Default age after which a temp file is considered abandoned. */
export const DEFAULT_STALE_TEMP_MS = 60 * 60 * 1000;

/** A fresh, unique temp file path under `<root>/.tmp/` (the pid helps a human find the writer). */
export function newTempPath(root: string): string {
  return join(root, TEMP_DIR, `${process.pid}-${randomUUID()}`);
}

/** What a cleanup removed. */
export interface TempCleanup {
  removed: number;
  kept: number;
}

/** Removes entries of `<root>/.tmp/` last modified more than `olderThanMs` ago. */
export async function cleanTempFiles(
  root: string,
  olderThanMs: number,
  now = Date.now(),
): Promise<TempCleanup> {
  const dir = join(root, TEMP_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return { removed: 0, kept: 0 };
    throw err;
  }
  const result: TempCleanup = { removed: 0, kept: 0 };
  for (const name of names) {
    const path = join(dir, name);
    try {
      const info = await lstat(path);
      if (now - info.mtimeMs < olderThanMs) {
        result.kept += 1;
        continue;
      }
      await rm(path, { recursive: true, force: true });
      result.removed += 1;
    } catch (err) {
      // Renamed into place or removed by another process between readdir and here: not ours.
      if (!hasErrno(err, 'ENOENT')) throw err;
    }
  }
  return result;
}
