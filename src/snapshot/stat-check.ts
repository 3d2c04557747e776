/**
 * @module snapshot/stat-check
 * Checking files against their stat cache records on more than one thread. A warm snapshot is
 * one lstat per file and little else, and Node's `lstatSync` costs a few microseconds on top of
 * the system call (it builds a `Stats` with four `Date`s), so for a large tree the check is
 * shared: the main thread and a helper worker claim chunks of the file list from a shared
 * counter and write their answers into shared arrays. The helper is started before the stat
 * cache is even read, so its start-up overlaps the main thread's own work; if it is not up by the
 * time the main thread has claimed everything, the main thread has simply done it all.
 */
import { lstatSync } from 'node:fs';
import { runInThisContext } from 'node:vm';
import { Worker } from 'node:worker_threads';

import type { NativeCheckHandle, NativeStats } from './native.ts';

/** Answer per file in {@link StatCheck.status}: not yet checked, record matches, differs, gone. */
export const CHECK_TODO = 0;
export const CHECK_SAME = 1;
export const CHECK_DIFFERENT = 2;
export const CHECK_GONE = 3;

/** Numbers per file in `expect` (size, mtime, ctime, ino, dev) and in `found` (the same + exec). */
const E = 5;
const G = 6;
/** Files claimed at a time. */
const CHUNK = 128;

/**
 * The shared loop: claims chunks of `n` files until none are left, lstat()s each and compares it
 * with `expect`; written once as source so the worker and the main thread run the same code.
 */
const CHECK_LOOP = `
function checkChunks(lstatSync, root, paths, n, expect, found, status, ctl) {
  const opts = { throwIfNoEntry: false };
  for (;;) {
    const from = Atomics.add(ctl, 0, ${CHUNK});
    if (from >= n) return;
    const to = Math.min(n, from + ${CHUNK});
    for (let i = from; i < to; i++) {
      let st;
      try {
        st = lstatSync(root + '/' + paths[i], opts);
      } catch {
        status[i] = ${CHECK_DIFFERENT}; // unreadable: the hasher reports it
        continue;
      }
      if (st === undefined || !st.isFile()) {
        status[i] = ${CHECK_GONE};
        continue;
      }
      const o = i * ${G};
      found[o] = st.size;
      found[o + 1] = st.mtimeMs;
      found[o + 2] = st.ctimeMs;
      found[o + 3] = st.ino;
      found[o + 4] = st.dev;
      found[o + 5] = (st.mode & 0o111) !== 0 ? 1 : 0;
      const e = i * ${E};
      status[i] =
        expect[e] === st.size &&
        expect[e + 1] === st.mtimeMs &&
        expect[e + 2] === st.ctimeMs &&
        expect[e + 3] === st.ino &&
        expect[e + 4] === st.dev
          ? ${CHECK_SAME}
          : ${CHECK_DIFFERENT};
    }
    Atomics.add(ctl, 1, to - from);
    Atomics.notify(ctl, 1);
  }
}
`;

const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { lstatSync } = require('node:fs');
${CHECK_LOOP}
parentPort.once('message', (m) => {
  const paths = m.paths.split('\\0');
  checkChunks(lstatSync, m.root, paths, paths.length, new Float64Array(m.expect),
    new Float64Array(m.found), new Uint8Array(m.status), new Int32Array(m.ctl));
  parentPort.postMessage('done');
});
`;

type CheckFn = (
  lstat: typeof lstatSync,
  root: string,
  paths: string[],
  n: number,
  expect: Float64Array,
  found: Float64Array,
  status: Uint8Array,
  ctl: Int32Array,
) => void;

// The main thread's copy of the loop, compiled from the same source as the worker's.
const checkChunks = runInThisContext(`(() => {${CHECK_LOOP}; return checkChunks; })()`, {
  filename: 'fetchml-stat-check.js',
}) as CheckFn;

/** A started (or starting) helper. */
export class StatHelper {
  private readonly worker: Worker;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.on('error', () => {
      // A helper that fails leaves its claimed chunks unanswered; `check` notices (CHECK_TODO).
    });
    this.worker.unref();
  }

  /** Stops the helper. */
  async close(): Promise<void> {
    await this.worker.terminate();
  }

  /** Posts the job; the helper joins in as soon as it is up. */
  start(job: StatCheck): void {
    this.worker.postMessage({
      root: job.root,
      paths: job.paths.join('\0'),
      expect: job.expect.buffer,
      found: job.found.buffer,
      status: job.status.buffer,
      ctl: job.ctl.buffer,
    });
  }
}

/** One check: inputs, and the answers once {@link runStatCheck} returns. */
export interface StatCheck {
  root: string;
  /** Root-relative paths. */
  paths: string[];
  /** Per path: the record's size, mtime, ctime, ino, dev. */
  expect: Float64Array;
  /** Per path: the lstat's size, mtime, ctime, ino, dev, and 1 if executable (when not gone). */
  found: Float64Array;
  /** Per path: a `CHECK_*` answer. */
  status: Uint8Array;
  /** [next index to claim, files answered]. */
  ctl: Int32Array;
}

/** Shared arrays for checking `n` paths (`expect` to be filled by the caller). */
export function newStatCheck(root: string, paths: string[]): StatCheck {
  const n = paths.length;
  const shared = (bytes: number) => new SharedArrayBuffer(Math.max(8, bytes));
  return {
    root,
    paths,
    expect: new Float64Array(shared(n * E * 8)),
    found: new Float64Array(shared(n * G * 8)),
    status: new Uint8Array(shared(n)),
    ctl: new Int32Array(shared(8)),
  };
}

/**
 * Runs the check in the main thread, sharing it with `helper` if given, and returns when every
 * path is answered. Paths a failed helper claimed and left are answered here at the end. With
 * `native` (./native.ts), the native helper does the whole check on `threads` threads instead.
 */
export function runStatCheck(
  job: StatCheck,
  helper: StatHelper | null,
  native: NativeStats | null = null,
  threads = 2,
): void {
  const n = job.paths.length;
  if (native) {
    native.checkStats(job.root, job.paths.join('\0'), job.expect, job.found, job.status, threads);
    return;
  }
  if (helper && n > CHUNK) helper.start(job);
  checkChunks(lstatSync, job.root, job.paths, n, job.expect, job.found, job.status, job.ctl);
  // Wait for the helper's last chunk (bounded: a chunk is CHUNK lstat calls).
  for (let waited = 0; Atomics.load(job.ctl, 1) < n && waited < 2000; waited += 20) {
    Atomics.wait(job.ctl, 1, Atomics.load(job.ctl, 1), 20);
  }
  if (Atomics.load(job.ctl, 1) < n) {
    // The helper died mid-chunk: do what it left.
    for (let i = 0; i < n; i++) {
      if (job.status[i] !== CHECK_TODO) continue;
      const one = new Int32Array(2);
      const sub = job.paths.slice(i, i + 1);
      const found = new Float64Array(G);
      const status = new Uint8Array(1);
      checkChunks(
        lstatSync,
        job.root,
        sub,
        1,
        job.expect.subarray(i * E, i * E + E),
        found,
        status,
        one,
      );
      job.found.set(found, i * G);
      job.status[i] = status[0] as number;
    }
  }
}

/**
 * A native check of every stat cache record, started before the tree is walked: the records
 * name (nearly) the files a warm snapshot will find, so their lstat calls run on threads of
 * their own while the main thread walks, and the walk only looks the answers up by record.
 */
export class StatPrecheck {
  /** Per record: the lstat's size, mtime, ctime, ino, dev, and 1 if executable. */
  readonly found: Float64Array;
  /** Per record: a `CHECK_*` answer (valid after {@link finish}). */
  readonly status: Uint8Array;
  private readonly native: NativeStats;
  private handle: NativeCheckHandle | null;

  /** `paths`: the records' paths joined by NUL; `expect`: their stat data, five numbers each. */
  constructor(
    native: NativeStats,
    root: string,
    paths: string,
    expect: Float64Array,
    count: number,
    threads: number,
  ) {
    this.native = native;
    this.found = new Float64Array(count * G);
    this.status = new Uint8Array(count);
    this.handle = native.startCheck(root, paths, expect, this.found, this.status, threads);
  }

  /** Waits for the answers. Idempotent. */
  finish(): void {
    if (!this.handle) return;
    const h = this.handle;
    this.handle = null;
    this.native.finishCheck(h);
  }
}
