/**
 * @module snapshot/statcache
 * The stat cache: `path → (size, mtime, ctime, inode, dev) → sha256`, so a file whose stat data
 * is unchanged is never read again. It is only ever an optimisation: a missing, truncated,
 * corrupt or other-version file is ignored (and rebuilt by the next save), never trusted.
 *
 * Format (version 3), all numbers little-endian:
 * ```
 * FETCHML-STATCACHE 3\n
 * <stamp_ms> <count> <paths_bytes> <sha256 of body>\n
 * body: count × 5 float64 (size, mtime_ms, ctime_ms, ino, dev) | count × 64 hex sha256
 *       | the paths, UTF-8, joined by NUL (paths cannot hold NUL)
 * then any number of appended segments, each with the same layout and its own checksum:
 * +<stamp_ms> <count> <paths_bytes> <sha256 of segment body>\n<segment body>
 * ```
 * A full save writes the file atomically (temp file + rename). When a snapshot re-hashed only a
 * few files, their records are appended as a segment instead ({@link appendStatCache}): a later
 * record for a path replaces an earlier one, and rewriting 20k records (plus the filesystem's
 * flush on rename) to record one changed file would cost more than the rest of a warm snapshot.
 * A segment that is cut short or fails its checksum (a crash, two writers at once) ends the
 * file there: the records before it stand, and `damaged` asks the next save to rewrite it all.
 *
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
  constants,
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

/**
 * Paths as one string, NUL between them: path `i` is `blob.slice(starts[i], starts[i + 1] - 1)`.
 * Kept whole because 20,000 path strings and a Map over them are most of what loading a large
 * cache would otherwise cost (and most of its garbage).
 */
export interface PathBlob {
  blob: string;
  /** `count + 1` offsets; the last is `blob.length + 1`. */
  starts: Int32Array;
}

/** How {@link StatCache} holds its records. */
export interface StatCacheParts {
  /** The base's paths (records `0 .. count-1`), in manifest order when written by a snapshot. */
  base: PathBlob;
  /** Paths of the appended segments' records, in file order (records `count ..`). */
  appendedPaths: readonly string[];
  /** Per record: size, mtime, ctime, inode, dev. */
  fields: Float64Array;
  /** Per record: 64 hex characters. */
  hashes: string;
  /** The same, as bytes (ASCII). */
  hashBytes: Buffer;
}

/** `a[as, ae)` compared with `b[bs, be)` as {@link comparePaths} compares two paths. */
function compareRanges(
  a: string,
  as: number,
  ae: number,
  b: string,
  bs: number,
  be: number,
): number {
  const la = ae - as;
  const lb = be - bs;
  const n = Math.min(la, lb);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(as + i);
    const y = b.charCodeAt(bs + i);
    if (x !== y) {
      if (x < 0xd800 && y < 0xd800) return x - y;
      return (a.codePointAt(as + i) ?? x) - (b.codePointAt(bs + i) ?? y);
    }
  }
  return la - lb;
}

/** `blob[start, end)` compared with the whole of `p`. */
function compareAt(blob: string, start: number, end: number, p: string): number {
  return compareRanges(blob, start, end, p, 0, p.length);
}

/** Offsets of the NUL-separated paths in `blob` (one empty blob is no paths). */
function pathStarts(blob: string, count: number): Int32Array | null {
  const starts = new Int32Array(count + 1);
  if (count === 0) return blob.length === 0 ? starts : null;
  let at = 0;
  for (let i = 0; i < count; i++) {
    starts[i] = at;
    const nul = blob.indexOf('\0', at);
    if (nul < 0) {
      if (i !== count - 1) return null;
      at = blob.length + 1;
    } else {
      if (i === count - 1) return null;
      at = nul + 1;
    }
  }
  starts[count] = at;
  return starts;
}

const EMPTY: PathBlob = { blob: '', starts: new Int32Array(1) };

/**
 * A loaded stat cache (possibly empty). Base records are looked up by position: a snapshot walks
 * paths in the order it saved them, so {@link cursor} matches them by moving forward through the
 * base, with no index built; a binary search serves {@link indexOf}. Appended records (few) are
 * in a Map and take precedence. Writers keep the base sorted (a snapshot saves in walk order,
 * {@link saveStatCache} sorts); were it not, lookups would only miss — files hashed again, and
 * the next save sorted — never match the wrong record, since a hit compares the whole path.
 */
export class StatCache {
  readonly status: StatCacheStatus;
  /** Records in appended segments (including replaced ones): how far the file is from compact. */
  readonly appended: number;
  /** True when a damaged segment was left out: the next save should rewrite the file. */
  readonly damaged: boolean;
  /** Appended segments read (each costs a little to load: a few dozen make a rewrite due). */
  readonly segments: number;
  /** Distinct paths held. */
  readonly size: number;
  private readonly base: PathBlob;
  private readonly baseCount: number;
  /** Per base record, the appended record that replaces it, or -1 (null: nothing appended). */
  private readonly replaced: Int32Array | null;
  /** Appended records by path (the last one for a path). */
  private readonly index = new Map<string, number>();
  private readonly fields: Float64Array;
  private readonly hashes: string;
  /** Record `i`'s sha256 hex is `hashBytes[64i, 64i + 64)` (ASCII): compared without a string. */
  readonly hashBytes: Buffer;
  private readonly appendedPaths: readonly string[];

  constructor(
    status: StatCacheStatus,
    parts?: StatCacheParts,
    appended = 0,
    damaged = false,
    segments = 0,
  ) {
    this.status = status;
    this.base = parts?.base ?? EMPTY;
    this.baseCount = this.base.starts.length - 1;
    this.fields = parts?.fields ?? new Float64Array(0);
    this.hashes = parts?.hashes ?? '';
    this.hashBytes = parts?.hashBytes ?? Buffer.alloc(0);
    this.appended = appended;
    this.damaged = damaged;
    this.segments = segments;
    let size = this.baseCount;
    const extra = parts?.appendedPaths ?? [];
    this.appendedPaths = extra;
    // An appended record replaces the base record of its path (the last one wins): found by
    // position in the base's own order, so a forward lookup needs no Map for them.
    this.replaced = extra.length > 0 ? new Int32Array(this.baseCount).fill(-1) : null;
    for (let k = 0; k < extra.length; k++) {
      const path = extra[k] as string;
      const b = this.search(path);
      if (b >= 0) (this.replaced as Int32Array)[b] = this.baseCount + k;
      else if (this.index.get(path) === undefined) size++;
      this.index.set(path, this.baseCount + k);
    }
    this.size = size;
  }

  /** Records held, replaced ones included (numbers `0 .. records-1`). */
  get records(): number {
    return this.hashes.length / 64;
  }

  /** Every record's path, joined by NUL, in record order. */
  recordPaths(): string {
    const extra = this.appendedPaths;
    if (extra.length === 0) return this.base.blob;
    return (this.baseCount > 0 ? `${this.base.blob}\0` : '') + extra.join('\0');
  }

  /** Every record's stat data (size, mtime, ctime, ino, dev), in record order. Do not modify. */
  recordFields(): Float64Array {
    return this.fields;
  }

  private basePath(i: number): string {
    const { blob, starts } = this.base;
    return blob.slice(starts[i], (starts[i + 1] as number) - 1);
  }

  /** Binary search of the sorted base. */
  private search(path: string): number {
    const { blob, starts } = this.base;
    let lo = 0;
    let hi = this.baseCount - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareAt(blob, starts[mid] as number, (starts[mid + 1] as number) - 1, path);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The cached sha256 of `path` if its record matches `st` exactly, else null. */
  lookup(path: string, st: StatFields): string | null {
    const i = this.indexOf(path);
    return i < 0 ? null : this.hashAt(i, st);
  }

  /** The record number of `path`, or -1: a file without a record needs no stat to be looked up. */
  indexOf(path: string): number {
    const i = this.index.get(path);
    if (i !== undefined) return i;
    return this.search(path);
  }

  /**
   * {@link indexOf} for paths asked in manifest order (as a walk gives them): moves forward
   * through the base instead of searching it, and allocates nothing.
   */
  cursor(): (path: string) => number {
    const { blob, starts } = this.base;
    const n = this.baseCount;
    const index = this.index;
    const replaced = this.replaced;
    const hit = (b: number) => (replaced ? (replaced[b] as number) : -1);
    // Not in the base: perhaps appended (a file new since the base was written).
    const miss = (path: string) => (index.size > 0 ? (index.get(path) ?? -1) : -1);
    let pos = 0;
    return (path) => {
      while (pos < n) {
        const at = starts[pos] as number;
        const end = (starts[pos + 1] as number) - 1;
        // The usual case, the next record: one native comparison.
        if (end - at === path.length && blob.startsWith(path, at)) {
          const r = hit(pos++);
          return r >= 0 ? r : pos - 1;
        }
        const c = compareAt(blob, at, end, path);
        if (c < 0) pos++;
        else if (c === 0) {
          const r = hit(pos++);
          return r >= 0 ? r : pos - 1;
        } else return miss(path);
      }
      return miss(path);
    };
  }

  /** The sha256 of record `i` (from {@link indexOf}), unchecked. */
  hashOf(i: number): string {
    return this.hashes.slice(i * 64, i * 64 + 64);
  }

  /** Copies record `i`'s stat data (size, mtime, ctime, ino, dev) into `out` at `at`. */
  fieldsInto(i: number, out: Float64Array, at: number): void {
    const f = this.fields;
    const o = i * FIELDS;
    out[at] = f[o] as number;
    out[at + 1] = f[o + 1] as number;
    out[at + 2] = f[o + 2] as number;
    out[at + 3] = f[o + 3] as number;
    out[at + 4] = f[o + 4] as number;
  }

  /** The sha256 of record `i` (from {@link indexOf}) if it matches `st` exactly, else null. */
  hashAt(i: number, st: StatFields): string | null {
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

/** True when `hex` is hex digits only (decoded in C++: a JavaScript loop is slower here). */
function isHex(hex: string): boolean {
  return Buffer.from(hex, 'hex').length * 2 === hex.length;
}

/** One parsed body (base or segment), or null when it does not check out. */
interface Part {
  count: number;
  fields: Buffer;
  hashes: string;
  hashBytes: Buffer;
  paths: PathBlob;
  end: number;
}

/** Parses the header line and body starting at `at` (`lead` is the header's first character). */
function parsePart(buf: Buffer, at: number, lead: string): Part | null {
  const headerEnd = buf.indexOf(10, at);
  if (headerEnd < 0 || buf.toString('latin1', at, at + lead.length) !== lead) return null;
  const header = buf.toString('latin1', at + lead.length, headerEnd).split(' ');
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
    return null;
  }
  const start = headerEnd + 1;
  const end = start + count * RECORD + pathBytes;
  if (end > buf.length) return null;
  const body = buf.subarray(start, end);
  if (createHash('sha256').update(body).digest('hex') !== header[3]) return null;
  const hashes = body.toString('latin1', count * FIELDS * 8, count * RECORD);
  if (!isHex(hashes)) return null;
  const blob = body.toString('utf8', count * RECORD);
  const starts = pathStarts(blob, count);
  if (!starts) return null;
  return {
    count,
    fields: body.subarray(0, count * FIELDS * 8),
    hashes,
    hashBytes: body.subarray(count * FIELDS * 8, count * RECORD),
    paths: { blob, starts },
    end,
  };
}

/** The paths of a parsed part, as strings. */
function partPaths(p: Part): string[] {
  const out: string[] = [];
  const { blob, starts } = p.paths;
  for (let i = 0; i < p.count; i++) out.push(blob.slice(starts[i], (starts[i + 1] as number) - 1));
  return out;
}

/**
 * Reads a stat cache file. Never throws for bad content: anything that does not start with a
 * complete, checksummed version-3 body gives an empty cache with status `corrupt` (`missing` if
 * absent); a damaged appended segment ends the file (see the module doc).
 */
export function loadStatCache(file: string): StatCache {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return new StatCache('missing');
  }
  if (buf.length < MAGIC.length || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    return new StatCache('corrupt');
  }
  const base = parsePart(buf, MAGIC.length, '');
  // The base must fill the file up to the first segment: a truncated base is corrupt.
  if (!base || (base.end !== buf.length && buf[base.end] !== 0x2b)) {
    return new StatCache('corrupt');
  }
  const parts = [base];
  let damaged = false;
  for (let at = base.end; at < buf.length;) {
    const seg = parsePart(buf, at, '+');
    if (!seg) {
      damaged = true;
      break;
    }
    parts.push(seg);
    at = seg.end;
  }
  let count = 0;
  for (const p of parts) count += p.count;
  const segments = parts.length - 1;
  if (count === 0) return new StatCache('loaded', undefined, 0, damaged, segments);
  const fields = new Float64Array(count * FIELDS);
  const bytes = Buffer.from(fields.buffer);
  let o = 0;
  for (const p of parts) {
    bytes.set(p.fields, o);
    o += p.fields.length;
  }
  const only = parts.length === 1;
  return new StatCache(
    'loaded',
    {
      base: base.paths,
      appendedPaths: only ? [] : parts.slice(1).flatMap(partPaths),
      fields,
      hashes: only ? base.hashes : parts.map((p) => p.hashes).join(''),
      hashBytes: only ? base.hashBytes : Buffer.concat(parts.map((p) => p.hashBytes)),
    },
    count - base.count,
    damaged,
    segments,
  );
}

/**
 * Writes `records` to `file` atomically, leaving out racy ones (see the module doc). Creates the
 * parent directory. Returns how many records were written.
 */
export function saveStatCache(file: string, records: readonly StatCacheRecord[]): number {
  records = [...records].sort((a, b) =>
    compareRanges(a.path, 0, a.path.length, b.path, 0, b.path.length),
  );
  const fields = new Float64Array(records.length * FIELDS);
  let o = 0;
  for (const r of records) {
    fields[o++] = r.size;
    fields[o++] = r.mtimeMs;
    fields[o++] = r.ctimeMs;
    fields[o++] = r.ino;
    fields[o++] = r.dev;
  }
  return saveStatCacheColumns(
    file,
    records.map((r) => r.path),
    records.map((r) => r.sha256),
    fields,
  );
}

/**
 * {@link saveStatCache} for records held as columns: `paths[i]` and `hashes[i]` with the stat data
 * at `fields[5i..5i+4]` (size, mtime, ctime, inode, dev), paths in manifest order (a snapshot's
 * walk order; see {@link StatCache} for why the order matters).
 */
export function saveStatCacheColumns(
  file: string,
  paths: readonly string[],
  hashes: readonly string[],
  fields: Float64Array,
): number {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fd = openSync(tmp, 'wx', 0o600);
  let closed = false;
  try {
    const stamp = fstatSync(fd).mtimeMs;
    let keptPaths = paths;
    let keptHashes = hashes;
    let keptFields = fields;
    let racy = 0;
    for (let i = 0; i < paths.length; i++)
      if (!((fields[i * FIELDS + 1] as number) < stamp)) racy++;
    if (racy > 0) {
      const n = paths.length - racy;
      const p: string[] = [];
      const h: string[] = [];
      const f = new Float64Array(n * FIELDS);
      for (let i = 0; i < paths.length; i++) {
        if (!((fields[i * FIELDS + 1] as number) < stamp)) continue;
        f.set(fields.subarray(i * FIELDS, i * FIELDS + FIELDS), p.length * FIELDS);
        p.push(paths[i] as string);
        h.push(hashes[i] as string);
      }
      keptPaths = p;
      keptHashes = h;
      keptFields = f;
    }
    writeAll(fd, encodePart(MAGIC, stamp, keptPaths, keptHashes, keptFields));
    closeSync(fd);
    closed = true;
    renameSync(tmp, file);
    return keptPaths.length;
  } catch (err) {
    if (!closed) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The columns without the records whose mtime is not older than `stamp` (racy, see above). */
function notRacy(
  stamp: number,
  paths: readonly string[],
  hashes: readonly string[],
  fields: Float64Array,
): [readonly string[], readonly string[], Float64Array] {
  let racy = 0;
  for (let i = 0; i < paths.length; i++) if (!((fields[i * FIELDS + 1] as number) < stamp)) racy++;
  if (racy === 0) return [paths, hashes, fields];
  const p: string[] = [];
  const h: string[] = [];
  const f = new Float64Array((paths.length - racy) * FIELDS);
  for (let i = 0; i < paths.length; i++) {
    if (!((fields[i * FIELDS + 1] as number) < stamp)) continue;
    f.set(fields.subarray(i * FIELDS, i * FIELDS + FIELDS), p.length * FIELDS);
    p.push(paths[i] as string);
    h.push(hashes[i] as string);
  }
  return [p, h, f];
}

/** A header line (after `lead`) and body for the given records. */
function encodePart(
  lead: string,
  stamp: number,
  paths: readonly string[],
  hashes: readonly string[],
  fields: Float64Array,
): Buffer {
  const count = paths.length;
  const pathBytes = Buffer.from(paths.join('\0'), 'utf8');
  const body = Buffer.concat([
    Buffer.from(fields.buffer, fields.byteOffset, count * FIELDS * 8),
    Buffer.from(hashes.join(''), 'latin1'),
    pathBytes,
  ]);
  const sum = createHash('sha256').update(body).digest('hex');
  const header = Buffer.from(`${lead}${stamp} ${count} ${pathBytes.length} ${sum}\n`, 'latin1');
  return Buffer.concat([header, body]);
}

/**
 * Appends records (columns as for {@link saveStatCacheColumns}) to an existing cache file as one
 * segment, leaving out racy ones. The stamp comes from a temp file made next to it, so it is
 * the filesystem's clock. Returns how many records were appended.
 */
export function appendStatCache(
  file: string,
  paths: readonly string[],
  hashes: readonly string[],
  fields: Float64Array,
): number {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const probe = openSync(tmp, 'wx', 0o600);
  let stamp: number;
  try {
    stamp = fstatSync(probe).mtimeMs;
  } finally {
    closeSync(probe);
    rmSync(tmp, { force: true });
  }
  const [keptPaths, keptHashes, keptFields] = notRacy(stamp, paths, hashes, fields);
  if (keptPaths.length === 0) return 0;
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND); // never creates it
  try {
    // One write: appends from several processes cannot interleave within it.
    writeAll(fd, encodePart('+', stamp, keptPaths, keptHashes, keptFields));
  } finally {
    closeSync(fd);
  }
  return keptPaths.length;
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/** The stat key the hasher checks a file against: the same fields, as one string. */
export function statKey(st: StatFields): string {
  return `${st.size} ${st.mtimeMs} ${st.ctimeMs} ${st.ino} ${st.dev}`;
}
