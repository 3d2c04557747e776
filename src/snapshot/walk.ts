/**
 * @module snapshot/walk
 * The tree walker: one pass over the working tree that applies ignore rules, refuses hostile
 * names, records symlinks without following them, and lstat()s every kept regular file.
 *
 * It is synchronous per directory on purpose: a sync `readdirSync`/`lstatSync` costs a few
 * microseconds, an awaited one ten times that, and the walk is the whole cost of a warm snapshot.
 * Between directories it calls `pause()` so the caller can let hashing results in.
 */
import type { Dirent } from 'node:fs';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';

import { FetchmlError } from '../core/errors.ts';
import type { IgnoreLevel } from './ignore.ts';
import { isIgnored, pushLevel } from './ignore.ts';
import type { StatFields } from './statcache.ts';

/** A regular file the walk kept, with its lstat data; `sha256` is filled in later. */
export interface WalkedFile extends StatFields {
  path: string;
  abs: string;
  mode: 0o644 | 0o755;
  sha256: string | null;
}

/** What the walk reports, one callback per kind of finding. */
export interface WalkSink {
  file(f: WalkedFile): void;
  symlink(path: string, target: string): void;
  /** A socket, fifo or device: left out of the snapshot. */
  skipped(path: string, reason: string): void;
  /** A hostile name or link: the snapshot will be refused. */
  problem(path: string, reason: string): void;
  /** Called between directories; may return a promise to wait on. */
  pause(): Promise<void> | void;
}

const HINT = 'rename it, or add it to .mlignore to leave it out of the snapshot';

/** `name` with every byte that is not valid UTF-8 shown as `\xNN`. */
function showBytes(raw: Buffer): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    let len = 1;
    while (len <= 4 && i + len <= raw.length && !isUtf8(raw.subarray(i, i + len))) len++;
    if (len <= 4 && i + len <= raw.length) {
      out += raw.toString('utf8', i, i + len);
      i += len;
    } else {
      out += `\\x${(raw[i] as number).toString(16).padStart(2, '0')}`;
      i += 1;
    }
  }
  return out;
}

function kindOf(d: Dirent): string {
  if (d.isSocket()) return 'socket';
  if (d.isFIFO()) return 'fifo';
  if (d.isCharacterDevice()) return 'character device';
  if (d.isBlockDevice()) return 'block device';
  return 'special file';
}

function readFailure(path: string, err: unknown): FetchmlError {
  const code = (err as { code?: string }).code ?? 'error';
  return new FetchmlError(
    'ML_ERR_VALIDATION',
    `cannot read ${JSON.stringify(path)} (${code}); fix its permissions or add it to .mlignore`,
    {
      cause: err,
      details: { path },
    },
  );
}

/** Invalid-UTF-8 names in `abs`, as raw byte views keyed by their lossy string form. */
function rawNames(abs: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of readdirSync(abs, { encoding: 'buffer' })) {
    if (!isUtf8(raw)) out.set(raw.toString('utf8'), showBytes(raw));
  }
  return out;
}

/**
 * Walks `root` (an absolute, real directory path). `excluded` holds root-relative paths that are
 * never included (the tool's own state). `.git` entries are always left out.
 */
export async function walkTree(
  root: string,
  excluded: ReadonlySet<string>,
  sink: WalkSink,
): Promise<void> {
  const stack: { rel: string; abs: string; level: IgnoreLevel | null }[] = [
    { rel: '', abs: root, level: null },
  ];
  while (stack.length > 0) {
    const dir = stack.pop() as (typeof stack)[number];
    let dirents: Dirent[];
    try {
      dirents = readdirSync(dir.abs, { withFileTypes: true });
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') continue;
      throw readFailure(dir.rel || '.', err);
    }
    let gitText: string | null = null;
    let mlText: string | null = null;
    for (const d of dirents) {
      if (d.name === '.gitignore' && d.isFile())
        gitText = readFileSync(`${dir.abs}/.gitignore`, 'utf8');
      else if (d.name === '.mlignore' && d.isFile())
        mlText = readFileSync(`${dir.abs}/.mlignore`, 'utf8');
    }
    const level =
      gitText === null && mlText === null
        ? dir.level
        : pushLevel(dir.level, dir.rel, gitText, mlText);
    let lossy: Map<string, string> | null = null;
    for (const d of dirents) {
      const name = d.name;
      if (name === '.git') continue;
      const path = dir.rel === '' ? name : `${dir.rel}/${name}`;
      if (excluded.has(path)) continue;
      const abs = `${dir.abs}/${name}`;
      let isDir = d.isDirectory();
      let isFile = d.isFile();
      let isLink = d.isSymbolicLink();
      if (
        !isDir &&
        !isFile &&
        !isLink &&
        !d.isSocket() &&
        !d.isFIFO() &&
        !d.isCharacterDevice() &&
        !d.isBlockDevice()
      ) {
        // DT_UNKNOWN (some filesystems): ask lstat.
        try {
          const st = lstatSync(abs);
          isDir = st.isDirectory();
          isFile = st.isFile();
          isLink = st.isSymbolicLink();
        } catch (err) {
          if ((err as { code?: string }).code === 'ENOENT') continue;
          throw readFailure(path, err);
        }
      }
      if (isIgnored(level, path, isDir)) continue;
      if (name.includes('\uFFFD')) {
        lossy ??= rawNames(dir.abs);
        const shown = lossy.get(name);
        if (shown !== undefined) {
          const where = dir.rel === '' ? shown : `${dir.rel}/${shown}`;
          sink.problem(where, `name is not valid UTF-8; ${HINT}`);
          continue;
        }
      }
      if (name.includes('\n') || name.includes('\r')) {
        sink.problem(path, `name contains a line break; ${HINT}`);
        continue;
      }
      // readdir names are never empty, '.', '..' or hold '/' or NUL: only the length is left.
      if (path.length > 1024 && Buffer.byteLength(path) > 4096) {
        sink.problem(path, `longer than 4096 bytes; ${HINT}`);
        continue;
      }
      if (isDir) {
        stack.push({ rel: path, abs, level });
      } else if (isFile) {
        let st;
        try {
          st = lstatSync(abs);
        } catch (err) {
          if ((err as { code?: string }).code === 'ENOENT') continue;
          throw readFailure(path, err);
        }
        if (!st.isFile()) continue; // replaced while walking; the next snapshot sees it
        sink.file({
          path,
          abs,
          mode: (st.mode & 0o111) !== 0 ? 0o755 : 0o644,
          size: st.size,
          mtimeMs: st.mtimeMs,
          ctimeMs: st.ctimeMs,
          ino: st.ino,
          dev: st.dev,
          sha256: null,
        });
      } else if (isLink) {
        let target: string;
        try {
          const raw = readlinkSync(abs, { encoding: 'buffer' });
          if (!isUtf8(raw)) {
            sink.problem(path, `symlink target ${showBytes(raw)} is not valid UTF-8; ${HINT}`);
            continue;
          }
          target = raw.toString('utf8');
        } catch (err) {
          if ((err as { code?: string }).code === 'ENOENT') continue;
          throw readFailure(path, err);
        }
        sink.symlink(path, target);
      } else {
        sink.skipped(path, `${kindOf(d)} left out of the snapshot`);
      }
    }
    const wait = sink.pause();
    if (wait) await wait;
  }
}
