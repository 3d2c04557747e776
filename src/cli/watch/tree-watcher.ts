/**
 * @module cli/watch/tree-watcher
 * Watches a project tree for `ml watch`: one non-recursive `fs.watch` per directory, walking the
 * tree with the snapshot's own ignore rules (`.gitignore`, `.mlignore`, `.git`, the root's
 * `.fetchml/`), so ignored directories such as `node_modules/` or `.venv/` cost no watcher at all —
 * Node's `recursive: true` on Linux would watch every directory, ignored or not. New directories
 * are watched as they appear; a changed ignore file re-reads the rules. Changes to ignored paths
 * and editors' transient files (swap, backup and lock files) are not reported.
 *
 * When the system runs out of watchers (inotify's `max_user_watches`, ENOSPC; or EMFILE), the
 * watcher closes what it opened and reports it once through `onExhausted` with what to do; the
 * caller then polls instead.
 */
import type { FSWatcher } from 'node:fs';
import { lstatSync, readdirSync, readFileSync, watch as fsWatch } from 'node:fs';
import { join } from 'node:path';

import type { IgnoreLevel } from '../../snapshot/ignore.ts';
import { isIgnored, pushLevel } from '../../snapshot/ignore.ts';

/** The tool's own state directory at the root (cli/snapshot STATE_DIR). */
const STATE_DIR = '.fetchml';

/**
 * Names editors write on the way to saving a file, never the file itself: vim's swap files and
 * its `4913` write probe, backup files (`name~`), emacs lock and autosave files, JetBrains' safe
 * write temporaries.
 */
const TRANSIENT = /(^|\/)(\.[^/]*\.sw[a-px]|4913|[^/]*~|\.#[^/]*|#[^/]*#|[^/]*___jb_(tmp|old)___)$/;

/** Whether a path is an editor's transient file. */
export function isTransient(relPath: string): boolean {
  return TRANSIENT.test(relPath);
}

/** How a directory is watched: `fs.watch` by default; tests inject a failing one. */
export type WatchFn = (
  path: string,
  listener: (event: string, filename: string | Buffer | null) => void,
) => FSWatcher;

export interface TreeWatcherOptions {
  /** A path (root-relative, `/`-separated) changed, was created or removed. */
  onChange(path: string): void;
  /** Watchers ran out; `message` says what happened and what to do. Watching has stopped. */
  onExhausted(message: string): void;
  watch?: WatchFn;
}

const realWatch: WatchFn = (path, listener) => fsWatch(path, { persistent: true }, listener);

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Thrown inside the walk when a watcher could not be created for lack of watchers. */
class Exhausted extends Error {
  readonly code: string;
  readonly dirs: number;
  constructor(code: string, dirs: number) {
    super(code);
    this.code = code;
    this.dirs = dirs;
  }
}

export class TreeWatcher {
  readonly #root: string;
  readonly #opts: TreeWatcherOptions;
  readonly #watch: WatchFn;
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #levels = new Map<string, IgnoreLevel | null>();
  #closed = false;
  #exhausted = false;

  constructor(root: string, opts: TreeWatcherOptions) {
    this.#root = root;
    this.#opts = opts;
    this.#watch = opts.watch ?? realWatch;
  }

  /** Directories watched now. */
  get directories(): number {
    return this.#watchers.size;
  }

  /** Whether watchers ran out (the caller polls instead). */
  get exhausted(): boolean {
    return this.#exhausted;
  }

  /** Watches the tree; false when watchers ran out (already reported through onExhausted). */
  start(): boolean {
    return this.#add('', null);
  }

  /** Stops watching. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }

  #ignored(level: IgnoreLevel | null, rel: string, isDir: boolean): boolean {
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    if (name === '.git') return true;
    if (rel === STATE_DIR || rel.startsWith(`${STATE_DIR}/`)) return true;
    return isIgnored(level, rel, isDir);
  }

  /** Watches `rel` and the directories below it that are not ignored. */
  #add(rel: string, parent: IgnoreLevel | null): boolean {
    try {
      this.#walk(rel, parent);
      return true;
    } catch (err) {
      if (!(err instanceof Exhausted)) throw err;
      this.#exhaust(err);
      return false;
    }
  }

  #walk(rel: string, parent: IgnoreLevel | null): void {
    if (this.#closed || this.#watchers.has(rel)) return;
    const abs = rel === '' ? this.#root : join(this.#root, rel);
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      return; // gone or unreadable: the snapshot will say so
    }
    const has = (name: string) => entries.some((e) => e.name === name && e.isFile());
    const level = pushLevel(
      parent,
      rel,
      has('.gitignore') ? readText(join(abs, '.gitignore')) : null,
      has('.mlignore') ? readText(join(abs, '.mlignore')) : null,
    );
    this.#levels.set(rel, level);
    let watcher: FSWatcher;
    try {
      watcher = this.#watch(abs, (_event, filename) => this.#event(rel, filename));
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code === 'ENOSPC' || code === 'EMFILE') throw new Exhausted(code, this.#watchers.size);
      if (code === 'ENOENT') return;
      throw err;
    }
    watcher.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'ENOSPC' || err.code === 'EMFILE') {
        this.#exhaust(new Exhausted(err.code, this.#watchers.size));
      } else {
        watcher.close();
        this.#watchers.delete(rel);
      }
    });
    this.#watchers.set(rel, watcher);
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (!this.#ignored(level, child, true)) this.#walk(child, level);
    }
  }

  #exhaust(err: Exhausted): void {
    if (this.#exhausted) return;
    this.#exhausted = true;
    this.close();
    const limit = readText('/proc/sys/fs/inotify/max_user_watches')?.trim();
    const what =
      err.code === 'ENOSPC'
        ? `the system's file watchers ran out after ${err.dirs} directories` +
          (limit ? ` (fs.inotify.max_user_watches = ${limit})` : '')
        : `too many open files after watching ${err.dirs} directories`;
    this.#opts.onExhausted(
      `${what}; watching by polling instead. To watch again: add large directories to .mlignore, ` +
        'or raise the limit (sudo sysctl fs.inotify.max_user_watches=524288)',
    );
  }

  #event(dir: string, filename: string | Buffer | null): void {
    if (this.#closed) return;
    if (filename === null) {
      this.#opts.onChange(dir);
      return;
    }
    const name = filename.toString();
    const rel = dir === '' ? name : `${dir}/${name}`;
    const abs = join(this.#root, rel);
    let isDir = false;
    try {
      isDir = lstatSync(abs).isDirectory();
    } catch {
      // removed: a file as far as the rules go
    }
    if (name === '.gitignore' || name === '.mlignore') {
      this.#rewatch();
      this.#opts.onChange(rel);
      return;
    }
    const level = this.#levels.get(dir) ?? null;
    if (this.#ignored(level, rel, isDir) || isTransient(rel)) return;
    if (isDir && !this.#watchers.has(rel)) this.#add(rel, level);
    this.#opts.onChange(rel);
  }

  /** The ignore rules changed: watch the tree again under the new rules. */
  #rewatch(): void {
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    this.#levels.clear();
    this.#add('', null);
  }
}
