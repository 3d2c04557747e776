/**
 * @module auth/file-watch
 * "Has this file changed since I last read it?" in well under a microsecond, for state another
 * process edits beside a running server (`keys.json` by `fetchml user`, `bans.json` by
 * `fetchml ban`). A `stat` per request cost ~10 µs under load (a fifth of a request), so instead
 * an `fs.watch` on the file's directory (inotify on Linux; atomic renames included) marks the file
 * dirty, and as a backstop the file is stat'ed at most once per {@link RECHECK_MS} in case an event
 * was missed (network file systems). A change is therefore seen within milliseconds, and at worst
 * after {@link RECHECK_MS}.
 */
import { statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Longest time a change can go unnoticed when no watch event arrives. */
export const RECHECK_MS = 1000;

export interface FileWatch {
  /** True when the file may have changed since the last {@link markRead}. */
  changed(): boolean;
  /** Call after reading the file. */
  markRead(): void;
  close(): void;
}

function versionOf(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : 'absent';
}

/** Watches `path` (which need not exist yet; its directory must). */
export function watchFile(path: string, clock: () => number = Date.now): FileWatch {
  let dirty = true;
  let version = '';
  let checkedAt = 0;
  const name = basename(path);
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
      if (file === null || file === name || String(file).startsWith(`${name}.`)) dirty = true;
    });
    watcher.on('error', () => {
      watcher = null;
    });
  } catch {
    watcher = null; // no watching here: the periodic stat alone
  }
  return {
    changed() {
      if (dirty) return true;
      const now = clock();
      if (now - checkedAt < RECHECK_MS) return false;
      checkedAt = now;
      return versionOf(path) !== version;
    },
    markRead() {
      dirty = false;
      version = versionOf(path);
      checkedAt = clock();
    },
    close() {
      watcher?.close();
    },
  };
}
