/**
 * @module snapshot/walk
 * The tree walker: one pass over the working tree that applies ignore rules, refuses hostile
 * names and records symlinks without following them. It does not stat regular files: the caller
 * decides which need it (only those the stat cache knows; the hasher fstats the rest itself).
 *
 * Paths come out in the manifest's order: each directory's entries are sorted by name (a
 * directory's name with a '/' after it, as its children's paths have) and a subdirectory is walked
 * where it falls in that order, so the final sort only has to confirm the order.
 *
 * It is synchronous per directory on purpose: a sync `readdirSync` costs a few microseconds, an
 * awaited one ten times that, and the walk is the whole cost of a warm snapshot. Between
 * directories it calls `pause()` so the caller can let hashing results in.
 */
import type { Dirent } from 'node:fs';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';

import { FetchmlError } from '../core/errors.ts';
import type { IgnoreLevel } from './ignore.ts';
import { isIgnored, pushLevel } from './ignore.ts';
import { comparePaths } from './manifest.ts';
import type { TreeRecorder } from './tree-cache.ts';

/** What the walk reports, one callback per kind of finding. */
export interface WalkSink {
  /** A regular file (as readdir says: it may have changed since), by root-relative path. */
  file(path: string): void;
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

const DIR = 1;
const FILE = 2;
const LINK = 3;
const OTHER = 4;

const WIDE = /[\ud800-\uffff]/;

/** One directory being walked: its kept entries in order, and how far the walk has got. */
interface Frame {
  rel: string;
  abs: string;
  level: IgnoreLevel | null;
  names: string[];
  paths: string[];
  kinds: number[];
  dirents: Dirent[];
  pos: number;
  /** Invalid-UTF-8 names of this directory, read when a name shows U+FFFD. */
  lossy: Map<string, string> | null;
}

/**
 * Walks `root` (an absolute, real directory path). `excluded` holds root-relative paths that are
 * never included (the tool's own state). `.git` entries are always left out. With `recorder`,
 * each directory read and ignore file read is reported with its stat data, taken before the read
 * (see ./tree-cache.ts).
 */
export async function walkTree(
  root: string,
  excluded: ReadonlySet<string>,
  sink: WalkSink,
  recorder: TreeRecorder | null = null,
): Promise<void> {
  const stack: Frame[] = [];
  // Directories that hold an excluded path: only their entries need the (string-hashing) test.
  const excludedIn = new Set<string>();
  for (const p of excluded) excludedIn.add(p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
  const open = (rel: string, abs: string, parent: IgnoreLevel | null): Frame | null => {
    let dirents: Dirent[];
    try {
      const st = recorder ? lstatSync(abs) : null;
      dirents = readdirSync(abs, { withFileTypes: true });
      if (st) recorder?.dir(rel, st);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return null;
      throw readFailure(rel || '.', err);
    }
    let gitText: string | null = null;
    let mlText: string | null = null;
    const readRules = (name: string): string => {
      const st = recorder ? lstatSync(`${abs}/${name}`) : null;
      const text = readFileSync(`${abs}/${name}`, 'utf8');
      if (st) recorder?.ignoreFile(rel === '' ? name : `${rel}/${name}`, st);
      return text;
    };
    for (const d of dirents) {
      if (d.name === '.gitignore' && d.isFile()) gitText = readRules('.gitignore');
      else if (d.name === '.mlignore' && d.isFile()) mlText = readRules('.mlignore');
    }
    const level =
      gitText === null && mlText === null ? parent : pushLevel(parent, rel, gitText, mlText);
    // Sort keys: a directory sorts as "name/", where its children's paths put it.
    const keys: string[] = [];
    const keptPaths: string[] = [];
    const kept: Dirent[] = [];
    const kinds: number[] = [];
    let wide = false;
    const checkExcluded = excludedIn.has(rel);
    for (const d of dirents) {
      const name = d.name;
      if (name === '.git') continue;
      const path = rel === '' ? name : `${rel}/${name}`;
      if (checkExcluded && excluded.has(path)) continue;
      let kind = d.isFile()
        ? FILE
        : d.isDirectory()
          ? DIR
          : d.isSymbolicLink()
            ? LINK
            : d.isSocket() || d.isFIFO() || d.isCharacterDevice() || d.isBlockDevice()
              ? OTHER
              : 0;
      if (kind === 0) {
        // DT_UNKNOWN (some filesystems): ask lstat.
        try {
          const st = lstatSync(`${abs}/${name}`);
          kind = st.isDirectory() ? DIR : st.isFile() ? FILE : st.isSymbolicLink() ? LINK : OTHER;
        } catch (err) {
          if ((err as { code?: string }).code === 'ENOENT') continue;
          throw readFailure(path, err);
        }
      }
      if (isIgnored(level, path, kind === DIR)) continue;
      if (!wide && WIDE.test(name)) wide = true;
      keys.push(kind === DIR ? `${name}/` : name);
      keptPaths.push(path);
      kept.push(d);
      kinds.push(kind);
    }
    const order = keys.map((_, i) => i);
    if (wide) order.sort((a, b) => comparePaths(keys[a] as string, keys[b] as string));
    else {
      order.sort((a, b) => {
        const x = keys[a] as string;
        const y = keys[b] as string;
        return x < y ? -1 : x > y ? 1 : 0;
      });
    }
    return {
      rel,
      abs,
      level,
      names: order.map((i) => (kept[i] as Dirent).name),
      paths: order.map((i) => keptPaths[i] as string),
      kinds: order.map((i) => kinds[i] as number),
      dirents: order.map((i) => kept[i] as Dirent),
      pos: 0,
      lossy: null,
    };
  };

  const top = open('', root, null);
  if (top) stack.push(top);
  while (stack.length > 0) {
    const dir = stack[stack.length - 1] as Frame;
    if (dir.pos >= dir.names.length) {
      stack.pop();
      continue;
    }
    const i = dir.pos++;
    const name = dir.names[i] as string;
    const kind = dir.kinds[i] as number;
    const path = dir.paths[i] as string;
    if (name.includes('\uFFFD')) {
      dir.lossy ??= rawNames(dir.abs);
      const shown = dir.lossy.get(name);
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
    if (kind === FILE) {
      sink.file(path);
      continue;
    }
    const abs = `${dir.abs}/${name}`;
    if (kind === DIR) {
      const sub = open(path, abs, dir.level);
      if (sub) stack.push(sub);
      const wait = sink.pause();
      if (wait) await wait;
    } else if (kind === LINK) {
      let target: string;
      try {
        const raw = readlinkSync(abs, { encoding: 'buffer' });
        if (!isUtf8(raw)) {
          sink.problem(path, `symlink target ${showBytes(raw)} is not valid UTF-8; ${HINT}`);
          continue;
        }
        target = raw.toString('utf8');
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ENOENT' || code === 'EINVAL') continue; // gone, or no longer a link
        throw readFailure(path, err);
      }
      sink.symlink(path, target);
    } else {
      sink.skipped(path, `${kindOf(dir.dirents[i] as Dirent)} left out of the snapshot`);
    }
  }
}
