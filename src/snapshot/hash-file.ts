/**
 * @module snapshot/hash-file
 * Hashing one file, the same way in the main thread and in pool workers.
 *
 * {@link hashPathSync} (what snapshots use) needs no earlier stat: open without following a
 * symlink (and without blocking, should the name now be a fifo), fstat the open file, read exactly
 * the size that fstat gave through one reused buffer, fstat again. The hash belongs to the stat
 * data only when both fstats agree (and the read gave the whole size); otherwise the result is
 * marked `changed` and the caller hashes again. A name that is no longer a regular file gives
 * null. So the walk never lstat()s a file the stat cache knows nothing about: a cold snapshot's
 * stat calls all happen in the workers.
 *
 * {@link hashFileSync} is the older form that checks against a stat key taken beforehand.
 *
 * {@link HASH_FILE_SOURCE} is the worker: the same function as plain JavaScript (workers are
 * started from source text so they run the same under tsc output and under vitest's TypeScript
 * loader), answering a batch of paths with one hex string, one Float64Array of stat data and one
 * status byte per file; a test checks that it gives the same answers as the main thread.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** What {@link hashFileSync} gives. */
export interface HashedFile {
  sha256: string;
  /** Bytes hashed. */
  size: number;
  /** True when the file did not match the walk's stat key while it was read. */
  changed: boolean;
}

/** What {@link hashPathSync} gives: the hash and the stat data it belongs to. */
export interface HashedPath {
  sha256: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
  mode: 0o644 | 0o755;
  /** True when the file changed while it was read: the hash belongs to no stat data. */
  changed: boolean;
}

/** Read buffer size: large enough for few syscalls, small enough to keep workers lean. */
export const READ_CHUNK = 1 << 20;

/** Flags for opening a file to hash: never follow a symlink, never block on a fifo. */
export const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | (constants.O_NONBLOCK ?? 0);

/** Stat data per file in a worker's answer: size, mtime, ctime, inode, dev, mode. */
export const STAT_FIELDS = 6;

/** Per-file status in a worker's answer. */
export const HASH_OK = 0;
export const HASH_CHANGED = 1;
export const HASH_GONE = 2;
export const HASH_ERROR = 3;

/**
 * Hashes the file at `abs`, expected to be `size` bytes with stat key `key`, using `buf` as the
 * read buffer. Throws the fs error (with its `code`).
 */
export function hashFileSync(abs: string, size: number, key: string, buf: Buffer): HashedFile {
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const hash = createHash('sha256');
    let total = 0;
    while (total < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - total), null);
      if (n === 0) break;
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
      total += n;
    }
    const st = fstatSync(fd);
    const now = `${st.size} ${st.mtimeMs} ${st.ctimeMs} ${st.ino} ${st.dev}`;
    return { sha256: hash.digest('hex'), size: total, changed: now !== key || total !== size };
  } finally {
    closeSync(fd);
  }
}

/**
 * Hashes the file at `abs` with the stat data of the open file (see the module doc), using `buf`
 * as the read buffer. Null when `abs` is gone or no longer a regular file (ENOENT, ELOOP: a
 * symlink now); throws any other fs error (with its `code`).
 */
export function hashPathSync(abs: string, buf: Buffer): HashedPath | null {
  let fd: number;
  try {
    fd = openSync(abs, OPEN_FLAGS);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return null;
    throw err;
  }
  try {
    const before = fstatSync(fd);
    if (!before.isFile()) return null;
    const size = before.size;
    const hash = createHash('sha256');
    let total = 0;
    while (total < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - total), null);
      if (n === 0) break;
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
      total += n;
    }
    const after = fstatSync(fd);
    return {
      sha256: hash.digest('hex'),
      size,
      mtimeMs: before.mtimeMs,
      ctimeMs: before.ctimeMs,
      ino: before.ino,
      dev: before.dev,
      mode: (before.mode & 0o111) !== 0 ? 0o755 : 0o644,
      changed:
        total !== size ||
        after.size !== size ||
        after.mtimeMs !== before.mtimeMs ||
        after.ctimeMs !== before.ctimeMs ||
        after.ino !== before.ino ||
        after.dev !== before.dev,
    };
  } finally {
    closeSync(fd);
  }
}

/**
 * The worker's source: {@link hashPathSync} in plain JavaScript, answering `{id, paths}` with
 * `{id, hex, stat, codes, errors}`: 64 hex characters per file (zeros unless hashed), a
 * Float64Array of {@link STAT_FIELDS} numbers per file (the mode's execute bit as 0/1), a
 * Uint8Array of statuses (`HASH_*`) and, for `HASH_ERROR`, `[index, message, code]` triples.
 */
export const HASH_FILE_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { closeSync, constants, fstatSync, openSync, readSync } = require('node:fs');
const buf = Buffer.allocUnsafe(${READ_CHUNK});
const FLAGS = ${OPEN_FLAGS};
const ZERO = '0'.repeat(64);
function hashInto(abs, i, hex, stat, codes) {
  let fd;
  try {
    fd = openSync(abs, FLAGS);
  } catch (err) {
    if (err.code === 'ENOENT' || err.code === 'ELOOP' || err.code === 'ENOTDIR') {
      codes[i] = ${HASH_GONE};
      hex.push(ZERO);
      return;
    }
    throw err;
  }
  try {
    const before = fstatSync(fd);
    if (!before.isFile()) {
      codes[i] = ${HASH_GONE};
      hex.push(ZERO);
      return;
    }
    const size = before.size;
    const hash = createHash('sha256');
    let total = 0;
    while (total < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - total), null);
      if (n === 0) break;
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
      total += n;
    }
    const after = fstatSync(fd);
    hex.push(hash.digest('hex'));
    const o = i * ${STAT_FIELDS};
    stat[o] = size;
    stat[o + 1] = before.mtimeMs;
    stat[o + 2] = before.ctimeMs;
    stat[o + 3] = before.ino;
    stat[o + 4] = before.dev;
    stat[o + 5] = (before.mode & 0o111) !== 0 ? 1 : 0;
    codes[i] =
      total !== size ||
      after.size !== size ||
      after.mtimeMs !== before.mtimeMs ||
      after.ctimeMs !== before.ctimeMs ||
      after.ino !== before.ino ||
      after.dev !== before.dev
        ? ${HASH_CHANGED}
        : ${HASH_OK};
  } finally {
    closeSync(fd);
  }
}
parentPort.on('message', (msg) => {
  const n = msg.paths.length;
  const hex = [];
  const stat = new Float64Array(n * ${STAT_FIELDS});
  const codes = new Uint8Array(n);
  const errors = [];
  for (let i = 0; i < n; i++) {
    try {
      hashInto(msg.paths[i], i, hex, stat, codes);
    } catch (err) {
      if (hex.length === i) hex.push(ZERO);
      codes[i] = ${HASH_ERROR};
      errors.push(i, String((err && err.message) || err), String((err && err.code) || 'error'));
    }
  }
  parentPort.postMessage({ id: msg.id, hex: hex.join(''), stat, codes, errors }, [
    stat.buffer,
    codes.buffer,
  ]);
});
`;
