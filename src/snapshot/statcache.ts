/**
 * @module snapshot/statcache
 * The stat cache: `path → (size, mtime_ns, ctime_ns, inode, dev) → sha256`, so a file whose stat
 * data is unchanged is never read again. It is only ever an optimisation: a missing, truncated,
 * corrupt or other-version file is ignored (and rebuilt by the next save), never trusted.
 *
 * File format (version 1), written atomically (temp file + rename):
 * ```
 * FETCHML-STATCACHE 1\n
 * <stamp_ns> <record count> <sha256 of body>\n
 * <body>: per file  <path>\0<size> <mtime_ns> <ctime_ns> <ino> <dev> <sha256>\n
 * ```
 * Paths cannot hold NUL and the fields after it cannot hold a newline, so paths with any other
 * byte round-trip. The stat part is kept as one string ({@link statKey}) and compared as such.
 *
 * Racy files (git's "racy clean" problem): a file written in the same timestamp tick as the
 * cache could change again without its mtime moving. The stamp is the temp file's own mtime,
 * read from the filesystem before the body is written, so it uses the same (often coarse) clock
 * as file mtimes; records with `mtime_ns >= stamp` are left out, and are re-hashed next time.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

const MAGIC = 'FETCHML-STATCACHE 1\n';

/** A cached hash and the stat data it was computed for. */
export interface CachedHash {
  key: string;
  sha256: string;
}

/** How loading went: `loaded`, or why the file was not used. */
export type StatCacheStatus = 'loaded' | 'missing' | 'corrupt' | 'disabled';

/** The comparable stat part of a record. Both sides of a comparison must be made by this. */
export function statKey(
  size: bigint | number,
  mtimeNs: bigint,
  ctimeNs: bigint,
  ino: bigint,
  dev: bigint,
): string {
  return `${size} ${mtimeNs} ${ctimeNs} ${ino} ${dev}`;
}

/**
 * Reads a stat cache file. Never throws for bad content: anything that is not a complete,
 * checksummed version-1 file gives an empty map and status `corrupt` (`missing` if absent).
 */
export function loadStatCache(file: string): {
  entries: Map<string, CachedHash>;
  status: StatCacheStatus;
} {
  const entries = new Map<string, CachedHash>();
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return { entries, status: 'missing' };
  }
  const corrupt = { entries: new Map<string, CachedHash>(), status: 'corrupt' as const };
  if (buf.length < MAGIC.length || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    return corrupt;
  }
  const headerEnd = buf.indexOf(10, MAGIC.length);
  if (headerEnd < 0) return corrupt;
  const header = buf.toString('latin1', MAGIC.length, headerEnd).split(' ');
  const count = Number(header[1]);
  if (
    header.length !== 3 ||
    !Number.isSafeInteger(count) ||
    !/^[0-9a-f]{64}$/.test(header[2] ?? '')
  ) {
    return corrupt;
  }
  const body = buf.subarray(headerEnd + 1);
  if (createHash('sha256').update(body).digest('hex') !== header[2]) return corrupt;
  const text = body.toString('utf8');
  let pos = 0;
  while (pos < text.length) {
    const z = text.indexOf('\0', pos);
    const nl = z < 0 ? -1 : text.indexOf('\n', z);
    if (nl < 0) return corrupt;
    const sp = text.lastIndexOf(' ', nl);
    if (sp <= z || nl - sp !== 65) return corrupt;
    entries.set(text.slice(pos, z), { key: text.slice(z + 1, sp), sha256: text.slice(sp + 1, nl) });
    pos = nl + 1;
  }
  if (entries.size !== count) return corrupt;
  return { entries, status: 'loaded' };
}

/** One record to save; `mtimeNs` decides whether it is racy. */
export interface StatCacheRecord {
  path: string;
  key: string;
  sha256: string;
  mtimeNs: bigint;
}

/**
 * Writes `records` to `file` atomically, leaving out racy ones (see the module doc). Creates the
 * parent directory. Returns how many records were written.
 */
export function saveStatCache(file: string, records: Iterable<StatCacheRecord>): number {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    const stamp = fstatSync(fd, { bigint: true }).mtimeNs;
    const parts: string[] = [];
    let count = 0;
    for (const r of records) {
      if (r.mtimeNs >= stamp) continue;
      parts.push(`${r.path}\0${r.key} ${r.sha256}\n`);
      count++;
    }
    const body = Buffer.from(parts.join(''), 'utf8');
    const sum = createHash('sha256').update(body).digest('hex');
    const head = Buffer.from(`${MAGIC}${stamp} ${count} ${sum}\n`, 'latin1');
    writeAll(fd, head);
    writeAll(fd, body);
    closeSync(fd);
    renameSync(tmp, file);
    return count;
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw err;
  }
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}
