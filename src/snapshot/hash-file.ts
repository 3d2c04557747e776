/**
 * @module snapshot/hash-file
 * Hashing one file, the same way in the main thread and in pool workers: open without following
 * a symlink, read `size` bytes (the size the walk's lstat saw) through one reused buffer, so
 * memory stays bounded whatever the file size, then fstat the open file. If the fstat's stat key
 * is not the walk's key, or the bytes read differ from the size, the file changed while it was
 * read and the result is marked `changed`; the caller re-stats and retries.
 *
 * Four syscalls per small file (open, read, fstat, close): the cost that dominates a cold
 * snapshot of many small files. Reading stops at `size` rather than at a 0-byte read; a file
 * that grew shows in the fstat.
 *
 * {@link HASH_FILE_SOURCE} is this function as plain JavaScript for the worker (workers are
 * started from source text so they run the same under tsc output and under vitest's TypeScript
 * loader); a test checks that both give the same answers.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** What hashing one file gives. */
export interface HashedFile {
  sha256: string;
  /** Bytes hashed. */
  size: number;
  /** True when the file did not match the walk's stat key while it was read. */
  changed: boolean;
}

/** Read buffer size: large enough for few syscalls, small enough to keep workers lean. */
export const READ_CHUNK = 1 << 20;

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

/** The worker's source: the function above, answering `{id, files}` with `{id, out}`. */
export const HASH_FILE_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { closeSync, constants, fstatSync, openSync, readSync } = require('node:fs');
const buf = Buffer.allocUnsafe(${READ_CHUNK});
function hashFileSync(abs, size, key) {
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
    const now = st.size + ' ' + st.mtimeMs + ' ' + st.ctimeMs + ' ' + st.ino + ' ' + st.dev;
    return { sha256: hash.digest('hex'), size: total, changed: now !== key || total !== size };
  } finally {
    closeSync(fd);
  }
}
parentPort.on('message', (msg) => {
  const out = [];
  for (let i = 0; i < msg.paths.length; i++) {
    try {
      out.push(hashFileSync(msg.paths[i], msg.sizes[i], msg.keys[i]));
    } catch (err) {
      out.push({ error: String((err && err.message) || err), code: err && err.code });
    }
  }
  parentPort.postMessage({ id: msg.id, out });
});
`;
