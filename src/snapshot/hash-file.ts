/**
 * @module snapshot/hash-file
 * Hashing one file, the same way in the main thread and in pool workers: open without following
 * a symlink, fstat, stream through one reused buffer (memory stays bounded whatever the file
 * size), fstat again. If the two fstats differ, or the bytes read differ from the size, the file
 * changed while it was read and the result is marked `changed` so the caller can retry.
 *
 * {@link HASH_FILE_SOURCE} is this function as plain JavaScript for the worker (workers are
 * started from source text so they run the same under tsc output and under vitest's TypeScript
 * loader); a test checks both give the same answers.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** What hashing one file gives. `key` is the stat key of the content hashed. */
export interface HashedFile {
  sha256: string;
  size: number;
  key: string;
  mtimeNs: string;
  changed: boolean;
}

/** Read buffer size: large enough for few syscalls, small enough to keep workers lean. */
export const READ_CHUNK = 1 << 20;

/** Hashes the file at `abs` with `buf` as the read buffer. Throws the fs error (with `code`). */
export function hashFileSync(abs: string, buf: Buffer): HashedFile {
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const pre = fstatSync(fd, { bigint: true });
    const hash = createHash('sha256');
    let total = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
      total += n;
    }
    const post = fstatSync(fd, { bigint: true });
    const key = `${pre.size} ${pre.mtimeNs} ${pre.ctimeNs} ${pre.ino} ${pre.dev}`;
    const postKey = `${post.size} ${post.mtimeNs} ${post.ctimeNs} ${post.ino} ${post.dev}`;
    return {
      sha256: hash.digest('hex'),
      size: total,
      key,
      mtimeNs: String(pre.mtimeNs),
      changed: key !== postKey || BigInt(total) !== pre.size || !pre.isFile(),
    };
  } finally {
    closeSync(fd);
  }
}

/** The worker's source: the loop above, answering `{id, paths}` with `{id, out}`. */
export const HASH_FILE_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { closeSync, constants, fstatSync, openSync, readSync } = require('node:fs');
const buf = Buffer.allocUnsafe(${READ_CHUNK});
function hashFileSync(abs) {
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const pre = fstatSync(fd, { bigint: true });
    const hash = createHash('sha256');
    let total = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
      total += n;
    }
    const post = fstatSync(fd, { bigint: true });
    const key = pre.size + ' ' + pre.mtimeNs + ' ' + pre.ctimeNs + ' ' + pre.ino + ' ' + pre.dev;
    const postKey = post.size + ' ' + post.mtimeNs + ' ' + post.ctimeNs + ' ' + post.ino + ' ' + post.dev;
    return {
      sha256: hash.digest('hex'),
      size: total,
      key,
      mtimeNs: String(pre.mtimeNs),
      changed: key !== postKey || BigInt(total) !== pre.size || !pre.isFile(),
    };
  } finally {
    closeSync(fd);
  }
}
parentPort.on('message', (msg) => {
  const out = msg.paths.map((p) => {
    try {
      return hashFileSync(p);
    } catch (err) {
      return { error: String((err && err.message) || err), code: err && err.code };
    }
  });
  parentPort.postMessage({ id: msg.id, out });
});
`;
