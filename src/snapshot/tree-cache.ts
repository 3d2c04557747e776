/**
 * @module snapshot/tree-cache
 * The tree cache: what the last full walk found, so that a warm snapshot of an unchanged tree
 * layout need not walk it again (git's "untracked cache" idea). It records every directory the
 * walk entered and every ignore file it read, each with its stat data, and the walk's findings in
 * order: the manifest's entries (with their canonical JSON text, see ./manifest.ts) and the
 * special files it left out.
 *
 * A directory's listing cannot change without its mtime and ctime moving (creating, deleting or
 * renaming an entry updates them; replacing a file by a directory or a link is a delete and a
 * create), and the rules cannot change without an ignore file's stat data moving. So when every
 * recorded directory and ignore file still has its recorded stat data, the walk would find the
 * same entries in the same order: the snapshot replays them and only the
 * files' own stat check (./stat-check.ts) remains. Anything else — a directory or ignore file
 * changed, added or gone, a racy one, another walk configuration — means a full walk, which
 * writes the cache anew. Racy: a directory read in the same clock tick as it changed could
 * change again without its mtime moving, so the stamp is the filesystem's clock taken before
 * the walk began ({@link fsNow}), and a directory or ignore file not older than it is not trusted.
 *
 * It also holds each file's stat data as hashed, so that a replay needs nothing else: the file's
 * hash is in the manifest text. Files re-hashed by a replay are appended as a patch (entry
 * number, new stat data and hash), as the stat cache appends its records; many patches make the
 * next save rewrite it whole.
 *
 * Format (version 2), numbers little-endian:
 * ```
 * FETCHML-TREECACHE 2\n
 * <stamp_ms> <body_bytes> <sha256 of body>\n
 * body: a JSON header line {key, dirs, ignores, entries, skipped, text} (counts and byte lengths)
 *       | dirs × 4 float64 (mtime_ms, ctime_ms, ino, dev) | ignores × 5 float64 (size, ...)
 *       | entries × 5 float64 (a file's size, mtime, ctime, ino, dev as hashed; NaN: none)
 *       | (entries + 1) × int32 text offsets | entries × int32 sha256 offsets (-1: symlink)
 *       | entries × uint8 kind (1 file, 2 symlink) | UTF-8 strings, each list NUL-joined:
 *       dir paths, ignore paths, entry paths, symlink targets, skipped paths, skip reasons;
 *       then the entries' manifest text (./manifest.ts ManifestText)
 * then any number of patches, each checksummed:
 * +<stamp_ms> <count> <sha256 of patch body>\n
 * patch body: count × int32 entry | count × 5 float64 stat | count × 64 hex sha256
 * ```
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

import type { TreeEntry } from '../core/schemas/tree.ts';
import type { ManifestText } from './manifest.ts';

const MAGIC = 'FETCHML-TREECACHE 2\n';
/** Numbers per file: size, mtime, ctime, ino, dev. */
const F = 5;
/** An entry's kind in {@link TreeCache.kinds}. */
export const KIND_FILE = 1;
const KIND_LINK = 2;

/** What a full walk saw: directories and ignore files, with their stat data, in walk order. */
export class TreeRecorder {
  readonly dirPaths: string[] = [];
  readonly dirStat: number[] = [];
  readonly ignorePaths: string[] = [];
  readonly ignoreStat: number[] = [];
  readonly skipped: Array<{ path: string; reason: string }> = [];

  /** A directory about to be read (stat data taken before its listing). */
  dir(path: string, st: { mtimeMs: number; ctimeMs: number; ino: number; dev: number }): void {
    this.dirPaths.push(path);
    this.dirStat.push(st.mtimeMs, st.ctimeMs, st.ino, st.dev);
  }

  /** An ignore file about to be read. */
  ignoreFile(
    path: string,
    st: { size: number; mtimeMs: number; ctimeMs: number; ino: number; dev: number },
  ): void {
    this.ignorePaths.push(path);
    this.ignoreStat.push(st.size, st.mtimeMs, st.ctimeMs, st.ino, st.dev);
  }
}

/** A loaded tree cache. */
export interface TreeCache {
  stamp: number;
  key: string;
  dirPaths: string[];
  dirStat: Float64Array;
  ignorePaths: string[];
  ignoreStat: Float64Array;
  kinds: Uint8Array;
  paths: string[];
  targets: string[];
  skipped: Array<{ path: string; reason: string }>;
  text: ManifestText;
  /** The entry paths joined by NUL (as the native stat check takes them). */
  pathList: string;
  /** Per entry: the file's stat data as hashed (NaN: unknown, or a symlink), patches applied. */
  expect: Float64Array;
  /** Hashes from patches, by entry: these entries' text is out of date. */
  patched: Map<number, string>;
  /** Patch records read (replaced ones included), and patches. */
  patchRecords: number;
  patches: number;
}

interface Header {
  key: string;
  dirs: number;
  ignores: number;
  entries: number;
  links: number;
  skipped: number;
  /** Byte length of each NUL-joined string list, in body order. */
  bytes: number[];
}

function splitList(s: string, n: number): string[] | null {
  if (n === 0) return s === '' ? [] : null;
  const out = s.split('\0');
  return out.length === n ? out : null;
}

/**
 * Applies the patch at `at` to `expect` and `patched`; returns its record count and where it
 * ends, or null when it is damaged. Records not older than the patch's stamp (racy) leave the entry unknown (NaN).
 */
function readPatch(
  buf: Buffer,
  at: number,
  entries: number,
  expect: Float64Array,
  patched: Map<number, string>,
): { count: number; end: number } | null {
  if (buf[at] !== 0x2b) return null;
  const lineEnd = buf.indexOf(10, at);
  if (lineEnd < 0) return null;
  const [stampText, countText, sum] = buf.toString('latin1', at + 1, lineEnd).split(' ');
  const stamp = Number(stampText);
  const count = Number(countText);
  if (!Number.isFinite(stamp) || !Number.isSafeInteger(count) || count < 0) return null;
  const size = count * (4 + F * 8 + 64);
  const body = buf.subarray(lineEnd + 1, lineEnd + 1 + size);
  if (body.length !== size || createHash('sha256').update(body).digest('hex') !== sum) return null;
  const index = new Int32Array(count);
  Buffer.from(index.buffer).set(body.subarray(0, count * 4));
  const stat = new Float64Array(count * F);
  Buffer.from(stat.buffer).set(body.subarray(count * 4, count * (4 + F * 8)));
  const hex = body.toString('latin1', count * (4 + F * 8));
  if (Buffer.from(hex, 'hex').length * 2 !== hex.length) return null;
  for (let k = 0; k < count; k++) {
    const i = index[k] as number;
    if (i < 0 || i >= entries) return null;
    const racy = !((stat[k * F + 1] as number) < stamp);
    for (let f = 0; f < F; f++) expect[i * F + f] = racy ? NaN : (stat[k * F + f] as number);
    patched.set(i, hex.slice(k * 64, k * 64 + 64));
  }
  return { count, end: lineEnd + 1 + size };
}

/**
 * Appends a patch: entries `index[k]` were hashed again to `hashes[k]` with stat data
 * `stat[5k..5k+4]`. Its stamp comes from a probe file beside it (the filesystem's clock), so a
 * record not older than it is taken as unknown when read. The file must exist.
 */
export function appendTreePatch(
  file: string,
  index: Int32Array,
  stat: Float64Array,
  hashes: readonly string[],
): void {
  const stamp = fsNow(dirname(file));
  const count = index.length;
  const body = Buffer.concat([
    Buffer.from(index.buffer, index.byteOffset, count * 4),
    Buffer.from(stat.buffer, stat.byteOffset, count * F * 8),
    Buffer.from(hashes.join(''), 'latin1'),
  ]);
  const sum = createHash('sha256').update(body).digest('hex');
  const out = Buffer.concat([Buffer.from(`+${stamp} ${count} ${sum}\n`, 'latin1'), body]);
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND); // never creates it
  try {
    let off = 0;
    while (off < out.length) off += writeSync(fd, out, off, out.length - off);
  } finally {
    closeSync(fd);
  }
}

/** Reads a tree cache; null when missing, damaged, of another version or for another `key`. */
export function loadTreeCache(file: string, key: string): TreeCache | null {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return null;
  }
  try {
    if (buf.toString('latin1', 0, MAGIC.length) !== MAGIC) return null;
    const lineEnd = buf.indexOf(10, MAGIC.length);
    if (lineEnd < 0) return null;
    const [stampText, bytesText, sum] = buf.toString('latin1', MAGIC.length, lineEnd).split(' ');
    const stamp = Number(stampText);
    const bodyBytes = Number(bytesText);
    const body = buf.subarray(lineEnd + 1, lineEnd + 1 + bodyBytes);
    if (!Number.isFinite(stamp) || body.length !== bodyBytes) return null;
    if (createHash('sha256').update(body).digest('hex') !== sum) return null;
    const headerEnd = body.indexOf(10);
    const header = JSON.parse(body.toString('utf8', 0, headerEnd)) as Header;
    if (header.key !== key) return null;
    const { dirs, ignores, entries } = header;
    let at = headerEnd + 1;
    at += (8 - (at % 8)) % 8; // the numbers start 8-byte aligned within the body
    const f64 = (n: number) => {
      const out = new Float64Array(n);
      Buffer.from(out.buffer).set(body.subarray(at, at + n * 8));
      at += n * 8;
      return out;
    };
    const i32 = (n: number) => {
      const out = new Int32Array(n);
      Buffer.from(out.buffer).set(body.subarray(at, at + n * 4));
      at += n * 4;
      return out;
    };
    const dirStat = f64(dirs * 4);
    const ignoreStat = f64(ignores * 5);
    const expect = f64(entries * F);
    const starts = i32(entries + 1);
    const shaAt = i32(entries);
    const kinds = new Uint8Array(body.subarray(at, at + entries));
    at += entries;
    const lists: string[] = [];
    if (header.bytes.length !== 7) return null;
    for (const n of header.bytes.slice(0, 6)) {
      lists.push(body.toString('utf8', at, at + n));
      at += n;
    }
    const textBytes = body.subarray(at, at + (header.bytes[6] as number));
    at += textBytes.length;
    if (at !== body.length) return null;
    const [dirText, ignoreText, pathText, targetText, skipText, reasonText] = lists as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const dirPaths = splitList(dirText, dirs);
    const ignorePaths = splitList(ignoreText, ignores);
    const paths = splitList(pathText, entries);
    const targets = splitList(targetText, header.links);
    const skipPaths = splitList(skipText, header.skipped);
    const reasons = splitList(reasonText, header.skipped);
    if (!dirPaths || !ignorePaths || !paths || !targets || !skipPaths || !reasons) return null;
    if (starts[entries] !== textBytes.length + 1 && !(entries === 0 && starts[0] === 0))
      return null;
    const patched = new Map<number, string>();
    let patchRecords = 0;
    let patches = 0;
    for (let p = lineEnd + 1 + bodyBytes; p < buf.length;) {
      const read = readPatch(buf, p, entries, expect, patched);
      if (!read) break; // a damaged patch (a crash mid-append) ends the file
      patchRecords += read.count;
      patches++;
      p = read.end;
    }
    return {
      stamp,
      key,
      dirPaths,
      dirStat,
      ignorePaths,
      ignoreStat,
      kinds,
      paths,
      targets,
      skipped: skipPaths.map((path, i) => ({ path, reason: reasons[i] as string })),
      text: { bytes: textBytes, starts, shaAt },
      pathList: pathText,
      expect,
      patched,
      patchRecords,
      patches,
    };
  } catch {
    return null;
  }
}

/**
 * True when `cache` still describes the tree at `root`: every recorded directory and ignore file
 * has its recorded stat data and is older than the cache's stamp.
 */
export function treeUnchanged(root: string, cache: TreeCache): boolean {
  const opts = { throwIfNoEntry: false } as const;
  const { dirPaths, dirStat, ignorePaths, ignoreStat, stamp } = cache;
  for (let i = 0; i < dirPaths.length; i++) {
    const rel = dirPaths[i] as string;
    const st = lstatSync(rel === '' ? root : `${root}/${rel}`, opts);
    const o = i * 4;
    if (
      !st?.isDirectory() ||
      !(st.mtimeMs < stamp) ||
      st.mtimeMs !== dirStat[o] ||
      st.ctimeMs !== dirStat[o + 1] ||
      st.ino !== dirStat[o + 2] ||
      st.dev !== dirStat[o + 3]
    ) {
      return false;
    }
  }
  for (let i = 0; i < ignorePaths.length; i++) {
    const st = lstatSync(`${root}/${ignorePaths[i] as string}`, opts);
    const o = i * 5;
    if (
      !st?.isFile() ||
      !(st.mtimeMs < stamp) ||
      st.size !== ignoreStat[o] ||
      st.mtimeMs !== ignoreStat[o + 1] ||
      st.ctimeMs !== ignoreStat[o + 2] ||
      st.ino !== ignoreStat[o + 3] ||
      st.dev !== ignoreStat[o + 4]
    ) {
      return false;
    }
  }
  return true;
}

/**
 * The filesystem's clock now, as a file's mtime would show it: the mtime of a probe file made
 * (and removed) in `dir`. Take it before a walk: anything the walk reads that changes afterwards
 * gets an mtime not older than it.
 */
export function fsNow(dir: string): number {
  const probe = `${dir}/.probe-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fd = openSync(probe, 'wx', 0o600);
  try {
    return fstatSync(fd).mtimeMs;
  } finally {
    closeSync(fd);
    rmSync(probe, { force: true });
  }
}

/** A recorder holding what `cache` recorded (to write it again with new entries). */
export function recorderOf(cache: TreeCache): TreeRecorder {
  const r = new TreeRecorder();
  r.dirPaths.push(...cache.dirPaths);
  r.dirStat.push(...cache.dirStat);
  r.ignorePaths.push(...cache.ignorePaths);
  r.ignoreStat.push(...cache.ignoreStat);
  r.skipped.push(...cache.skipped);
  return r;
}

/**
 * Writes the cache for a full walk's `recorder`, final `entries` and their manifest `text`,
 * atomically. `stamp`: {@link fsNow} taken before that walk began.
 */
export function saveTreeCache(
  file: string,
  stamp: number,
  key: string,
  recorder: TreeRecorder,
  entries: readonly TreeEntry[],
  text: ManifestText,
  /** Per entry, the file's stat data as hashed (NaN: unknown). */
  expect: Float64Array,
): void {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fd = openSync(tmp, 'wx', 0o600);
  let closed = false;
  try {
    // Files written in the clock tick of this save could change again unseen: not trusted.
    const fileStamp = fstatSync(fd).mtimeMs;
    const trusted = Float64Array.from(expect);
    for (let i = 0; i < entries.length; i++) {
      if (!((trusted[i * F + 1] as number) < fileStamp)) trusted.fill(NaN, i * F, i * F + F);
    }
    const n = entries.length;
    const kinds = new Uint8Array(n);
    const targets: string[] = [];
    for (let i = 0; i < n; i++) {
      const e = entries[i] as TreeEntry;
      if (e.type === 'file') kinds[i] = KIND_FILE;
      else {
        kinds[i] = KIND_LINK;
        targets.push(e.target);
      }
    }
    const lists: Buffer[] = [
      recorder.dirPaths.join('\0'),
      recorder.ignorePaths.join('\0'),
      entries.map((e) => e.path).join('\0'),
      targets.join('\0'),
      recorder.skipped.map((s) => s.path).join('\0'),
      recorder.skipped.map((s) => s.reason).join('\0'),
    ].map((s) => Buffer.from(s, 'utf8'));
    lists.push(text.bytes);
    const header: Header = {
      key,
      dirs: recorder.dirPaths.length,
      ignores: recorder.ignorePaths.length,
      entries: n,
      links: targets.length,
      skipped: recorder.skipped.length,
      bytes: lists.map((b) => b.length),
    };
    const headerBytes = Buffer.from(`${JSON.stringify(header)}\n`, 'utf8');
    // The body starts after the file's header line, whose length is not known yet: the padding
    // aligns the numbers relative to the body, which is what the reader does.
    const pad = Buffer.alloc((8 - (headerBytes.length % 8)) % 8);
    const bytes = (a: Float64Array | Int32Array | Uint8Array) =>
      Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const body = Buffer.concat([
      headerBytes,
      pad,
      bytes(Float64Array.from(recorder.dirStat)),
      bytes(Float64Array.from(recorder.ignoreStat)),
      bytes(trusted),
      bytes(text.starts),
      bytes(text.shaAt),
      bytes(kinds),
      ...lists,
    ]);
    const sum = createHash('sha256').update(body).digest('hex');
    const out = Buffer.concat([
      Buffer.from(`${MAGIC}${stamp} ${body.length} ${sum}\n`, 'latin1'),
      body,
    ]);
    let off = 0;
    while (off < out.length) off += writeSync(fd, out, off, out.length - off);
    closeSync(fd);
    closed = true;
    renameSync(tmp, file);
  } catch (err) {
    if (!closed) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}
