/**
 * @module snapshot/statcache
 * The stat cache: `path → (size, mtime, ctime, inode, dev) → sha256`, so a file whose stat data
 * is unchanged is never read again. It is only ever an optimisation: a missing, truncated,
 * corrupt or other-version file is ignored (and rebuilt by the next save), never trusted.
 *
 * Format (version 2), written atomically (temp file + rename), all numbers little-endian:
 * ```
 * FETCHML-STATCACHE 3\n
 * <stamp_ms> <count> <paths_bytes> <sha256 of body>\n
 * body: count × 5 float64 (size, mtime_ms, ctime_ms, ino, dev) | count × 64 hex sha256
 *       | the paths, UTF-8, joined by NUL (paths cannot hold NUL)
 * ```
 * Binary because loading and comparing is most of a warm snapshot's own work: the doubles are
 * one copy into a Float64Array, the hashes one latin1 string sliced per hit, the paths one split;
 * a lookup compares five doubles and allocates nothing but the slice.
 * Times are Node's `mtimeMs`/`ctimeMs` doubles: nanosecond timestamps at a resolution of about a
 * quarter of a microsecond at today's dates, far below any filesystem clock tick; size, inode and
 * ctime are compared too (a same-size rewrite that restores the mtime still moves the ctime).
 *
 * Racy files (git's "racy clean" problem): a file written in the same timestamp tick as the
 * cache could change again without its mtime moving. The stamp is the temp file's own mtime, read
 * from the filesystem before the body is written, so it comes from the same (often coarse) clock
 * as file mtimes; records with `mtime >= stamp` are left out and re-hashed next time.
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

const MAGIC = 'FETCHML-STATCACHE 3\n';
const FIELDS = 5;
/** Bytes per record before the paths: five float64 and the sha256 as 64 hex characters. */
const RECORD = FIELDS * 8 + 64;

/** The stat data a cache record is valid for (what `fs.lstatSync` gives, as numbers). */
export interface StatFields {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
}

/** One record to save. */
export interface StatCacheRecord extends StatFields {
  path: string;
  sha256: string;
}

/** How loading went: `loaded`, or why the file was not used. */
export type StatCacheStatus = 'loaded' | 'missing' | 'corrupt' | 'disabled';

/** A loaded stat cache (possibly empty). */
export class StatCache {
  readonly status: StatCacheStatus;
  private readonly index = new Map<string, number>();
  private readonly fields: Float64Array;
  private readonly hashes: string;

  constructor(status: StatCacheStatus, paths: string[] = [], fields?: Float64Array, hashes = '') {
    this.status = status;
    this.fields = fields ?? new Float64Array(0);
    this.hashes = hashes;
    for (let i = 0; i < paths.length; i++) this.index.set(paths[i] as string, i);
  }

  /** Records held. */
  get size(): number {
    return this.index.size;
  }

  /** The cached sha256 of `path` if its record matches `st` exactly, else null. */
  lookup(path: string, st: StatFields): string | null {
    const i = this.index.get(path);
    if (i === undefined) return null;
    const f = this.fields;
    const o = i * FIELDS;
    if (
      f[o] !== st.size ||
      f[o + 1] !== st.mtimeMs ||
      f[o + 2] !== st.ctimeMs ||
      f[o + 3] !== st.ino ||
      f[o + 4] !== st.dev
    ) {
      return null;
    }
    return this.hashes.slice(i * 64, i * 64 + 64);
  }
}

/**
 * Reads a stat cache file. Never throws for bad content: anything that is not a complete,
 * checksummed version-3 file gives an empty cache with status `corrupt` (`missing` if absent).
 */
export function loadStatCache(file: string): StatCache {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return new StatCache('missing');
  }
  const corrupt = new StatCache('corrupt');
  if (buf.length < MAGIC.length || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    return corrupt;
  }
  const headerEnd = buf.indexOf(10, MAGIC.length);
  if (headerEnd < 0) return corrupt;
  const header = buf.toString('latin1', MAGIC.length, headerEnd).split(' ');
  const count = Number(header[1]);
  const pathBytes = Number(header[2]);
  if (
    header.length !== 4 ||
    !Number.isSafeInteger(count) ||
    !Number.isSafeInteger(pathBytes) ||
    count < 0 ||
    pathBytes < 0 ||
    !/^[0-9a-f]{64}$/.test(header[3] ?? '')
  ) {
    return corrupt;
  }
  const body = buf.subarray(headerEnd + 1);
  if (body.length !== count * RECORD + pathBytes) return corrupt;
  if (createHash('sha256').update(body).digest('hex') !== header[3]) return corrupt;
  if (count === 0) return new StatCache('loaded');
  const fields = new Float64Array(count * FIELDS);
  Buffer.from(fields.buffer).set(body.subarray(0, count * FIELDS * 8));
  const hashes = body.toString('latin1', count * FIELDS * 8, count * RECORD);
  const paths = body.toString('utf8', count * RECORD).split('\0');
  if (paths.length !== count || !/^[0-9a-f]*$/.test(hashes)) return corrupt;
  return new StatCache('loaded', paths, fields, hashes);
}

/**
 * Writes `records` to `file` atomically, leaving out racy ones (see the module doc). Creates the
 * parent directory. Returns how many records were written.
 */
export function saveStatCache(file: string, records: readonly StatCacheRecord[]): number {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fd = openSync(tmp, 'wx', 0o600);
  let closed = false;
  try {
    const stamp = fstatSync(fd).mtimeMs;
    const kept = records.filter((r) => r.mtimeMs < stamp);
    const count = kept.length;
    const paths = Buffer.from(kept.map((r) => r.path).join('\0'), 'utf8');
    const fields = new Float64Array(count * FIELDS);
    let o = 0;
    for (const r of kept) {
      fields[o++] = r.size;
      fields[o++] = r.mtimeMs;
      fields[o++] = r.ctimeMs;
      fields[o++] = r.ino;
      fields[o++] = r.dev;
    }
    const body = Buffer.concat([
      Buffer.from(fields.buffer),
      Buffer.from(kept.map((r) => r.sha256).join(''), 'latin1'),
      paths,
    ]);
    const sum = createHash('sha256').update(body).digest('hex');
    writeAll(fd, Buffer.from(`${MAGIC}${stamp} ${count} ${paths.length} ${sum}\n`, 'latin1'));
    writeAll(fd, body);
    closeSync(fd);
    closed = true;
    renameSync(tmp, file);
    return count;
  } catch (err) {
    if (!closed) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/** The stat key the hasher checks a file against: the same fields, as one string. */
export function statKey(st: StatFields): string {
  return `${st.size} ${st.mtimeMs} ${st.ctimeMs} ${st.ino} ${st.dev}`;
}
