/**
 * @module snapshot/snapshot
 * `snapshotTree`: working tree → {@link TreeManifest} + commit id. The walk (./walk.ts) gives
 * paths in manifest order; a file the stat cache (./statcache.ts) holds a record for is lstat'ed
 * and, if its stat data still matches, takes the cached hash. Every other file is hashed without
 * an lstat of its own: in the main thread when there are few, or by a worker pool (./pool.ts)
 * started as soon as enough work is pending to pay for it, so hashing overlaps the rest of the
 * walk. The hasher fstats the open file before and after reading it and keeps the hash only when
 * both agree, so a hash and the stat data recorded with it (and cached) always belong together.
 * A file that changes while it is read is hashed again (see ./retry.ts), then refused. A file
 * deleted mid-snapshot is left out with a warning.
 *
 * A warm snapshot with nothing to hash starts no worker, writes the stat cache only when
 * something in it changed, and allocates little per file: the stat call is most of its cost.
 */
import { availableParallelism } from 'node:os';
import { mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

import { FetchmlError } from '../core/errors.ts';
import type { FileEntry, TreeEntry, TreeManifest } from '../core/schemas/tree.ts';
import { HASH_GONE, HASH_OK, READ_CHUNK, STAT_FIELDS } from './hash-file.ts';
import type { ManifestText } from './manifest.ts';
import {
  commitIdOf,
  commitIdOfText,
  commitIdReusing,
  comparePaths,
  manifestText,
  treeSymlinkProblems,
} from './manifest.ts';
import type { HashAnswer } from './pool.ts';
import { HashPool } from './pool.ts';
import { appendStatCache, loadStatCache, saveStatCacheColumns, StatCache } from './statcache.ts';
import { hashWithRetries } from './retry.ts';
import { nativeStats } from './native.ts';
import {
  CHECK_DIFFERENT,
  CHECK_GONE,
  CHECK_SAME,
  newStatCheck,
  runStatCheck,
  StatHelper,
  StatPrecheck,
} from './stat-check.ts';
import type { SnapshotOptions, SnapshotResult, SnapshotWarning } from './types.ts';
import {
  fsNow,
  loadTreeCache,
  recorderOf,
  replayTree,
  saveTreeCache,
  TreeRecorder,
  treeUnchanged,
} from './tree-cache.ts';
import type { WalkSink } from './walk.ts';
import { walkTree } from './walk.ts';

/** The directory at the tree's root that holds fetchml's own state; never snapshotted. */
export const STATE_DIR = '.fetchml';

const WIDE = /[\ud800-\uffff]/;
/** Paths per batch sent to a worker. */
const BATCH_FILES = 32;
/** Changed records a stat cache takes appended before it is rewritten (or 1/8 of its size). */
const APPEND_MIN = 256;
/** Appended segments a stat cache takes before it is rewritten. */
const APPEND_SEGMENTS = 32;
/** A stat cache at least this large (about 4,000 records) gets a helper thread for its check. */
const HELPER_MIN_BYTES = 512 << 10;
/** A stat cache with at least this many records is checked natively before the walk. */
const PRECHECK_MIN = 256;
/** Numbers per file in a stat check's answers: F stat numbers and the execute bit. */
const G = 6;
/** Stat numbers kept per file for the stat cache: size, mtime, ctime, inode, dev. */
const F = 5;

type MutableFileEntry = { -readonly [K in keyof FileEntry]: FileEntry[K] };

function hostile(problems: SnapshotWarning[]): FetchmlError {
  const first = problems[0] as SnapshotWarning;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new FetchmlError(
    'ML_ERR_PATH_HOSTILE',
    `refusing path ${JSON.stringify(first.path)}: ${first.reason}${more}`,
    { details: { path: first.path, problems: problems.slice(0, 100) } },
  );
}

/**
 * Snapshots the working tree at `root`: every file and symlink not excluded by `.gitignore` /
 * `.mlignore` (see ./ignore.ts), as a sorted manifest and its commit id. Unchanged files are
 * taken from the stat cache; the rest are hashed on all cores.
 *
 * @throws FetchmlError ML_ERR_PATH_HOSTILE for names that are not valid UTF-8 or hold line
 *   breaks, and for symlinks that are absolute or resolve outside the tree (all are listed in
 *   `details.problems`); ML_ERR_VALIDATION for unreadable files; ML_ERR_CONFLICT for a file that
 *   kept changing while it was read.
 */
export async function snapshotTree(
  root: string,
  opts: SnapshotOptions = {},
): Promise<SnapshotResult> {
  const started = performance.now();
  const realRoot = realpathSync(resolve(root));
  if (!statSync(realRoot).isDirectory()) {
    throw new FetchmlError('ML_ERR_VALIDATION', `not a directory: ${root}`, {
      details: { path: root },
    });
  }
  const defaultCache = opts.statCache === undefined;
  const cacheFile =
    opts.statCache === false
      ? null
      : resolve(opts.statCache ?? join(realRoot, STATE_DIR, 'statcache'));
  // The tree cache (./tree-cache.ts) lives beside the stat cache.
  const treeFile = cacheFile ? `${cacheFile}.tree` : null;
  const excluded = new Set<string>([STATE_DIR]);
  if (cacheFile) {
    const rel = relative(realRoot, cacheFile);
    if (rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep)) {
      excluded.add(rel.split(sep).join('/'));
      excluded.add(`${rel.split(sep).join('/')}.tree`);
    }
  }
  const treeKey = [...excluded].sort().join('\0');
  const workers = opts.workers ?? availableParallelism();
  // The native stat check (threads of its own) when built; else, for a large stat cache, a
  // helper thread started now, so that it starts up while the cache is read and the tree walked.
  const native = opts.native === false ? null : nativeStats();
  const helper =
    !native &&
    cacheFile &&
    workers >= 2 &&
    (statSync(cacheFile, { throwIfNoEntry: false })?.size ?? 0) >= HELPER_MIN_BYTES
      ? new StatHelper()
      : null;
  const cache = cacheFile ? loadStatCache(cacheFile) : new StatCache('disabled');
  const phases = { loadCache: 0, walk: 0, hash: 0, manifest: 0, saveCache: 0 };
  let mark = started;
  const lap = (phase: keyof typeof phases) => {
    const now = performance.now();
    phases[phase] = Math.round((now - mark) * 10) / 10;
    mark = now;
  };
  // Every record's lstat, on threads of their own while the main thread walks (native only).
  const pre =
    native && cache.records >= PRECHECK_MIN
      ? new StatPrecheck(
          native,
          realRoot,
          cache.recordPaths(),
          cache.recordFields(),
          cache.records,
          Math.max(1, workers),
        )
      : null;
  // Same directories and ignore files as last time: replay that walk instead of walking.
  const tree = treeFile ? loadTreeCache(treeFile, treeKey) : null;
  const replay = tree !== null && treeUnchanged(realRoot, tree) ? tree : null;
  lap('loadCache');
  const cacheIndexOf = cache.cursor();

  const threshold = opts.poolThreshold ?? { files: 256, bytes: 16 << 20 };
  const entries: TreeEntry[] = [];
  // Per file, in walk order: its entry (sha256 '' until known) and F stat numbers in fileStat.
  const fileEntries: MutableFileEntry[] = [];
  let fileStat = new Float64Array(Math.max(1024, cache.size + 64) * F);
  const absOf = (j: number) => `${realRoot}/${(fileEntries[j] as MutableFileEntry).path}`;
  /** Files that had a cache record (whether it still matched or not), and that record. */
  const checkFiles: number[] = [];
  const checkRecords: number[] = [];
  let known = 0;
  let symlinkCount = 0;
  const warnings: SnapshotWarning[] = [];
  const problems: SnapshotWarning[] = [];
  /** Files to hash in the main thread at the end: few misses, or answers to do again. */
  const redo: number[] = [];
  let pending: number[] = [];
  let pendingBytes = 0;
  let pool: HashPool | null = null;
  let lastYield = performance.now();
  let cached = 0;
  let hashed = 0;
  let hashedBytes = 0;
  /** Per file (walk order), its index in `entries`. */
  const entryOfFile: number[] = [];
  /** On a replay: per entry, where its hash (taken from the stat cache) is in `cache.hashBytes`. */
  let hashAt: Int32Array | null = null;
  /** What a full walk saw, for the tree cache, and the filesystem's clock before it began. */
  let recorder: TreeRecorder | null = null;
  let treeStamp = 0;
  const hashedFiles: number[] = [];

  const record = (
    j: number,
    sha256: string,
    size: number,
    exec: boolean,
    st: Float64Array,
    o: number,
  ) => {
    const e = fileEntries[j] as MutableFileEntry;
    e.sha256 = sha256;
    e.size = size;
    e.mode = exec ? 0o755 : 0o644;
    const p = j * F;
    fileStat[p] = size;
    fileStat[p + 1] = st[o + 1] as number;
    fileStat[p + 2] = st[o + 2] as number;
    fileStat[p + 3] = st[o + 3] as number;
    fileStat[p + 4] = st[o + 4] as number;
    hashed++;
    hashedBytes += size;
    hashedFiles.push(j);
  };
  const apply = (batch: number[], ans: HashAnswer) => {
    for (let k = 0; k < batch.length; k++) {
      const j = batch[k] as number;
      const code = ans.codes[k];
      if (code === HASH_OK) {
        const o = k * STAT_FIELDS;
        record(
          j,
          ans.hex.slice(k * 64, k * 64 + 64),
          ans.stat[o] as number,
          ans.stat[o + 5] === 1,
          ans.stat,
          o,
        );
      } else if (code !== HASH_GONE) {
        redo.push(j); // changed while read, or an error: the main thread tries again and reports
      } else {
        goneWarning(j);
      }
    }
  };
  const goneWarning = (j: number) => {
    const e = fileEntries[j] as MutableFileEntry;
    warnings.push({ path: e.path, reason: 'deleted while the snapshot was taken; left out' });
  };
  const flush = (final: boolean) => {
    if (!pool) {
      if (workers <= 0 || (pending.length < threshold.files && pendingBytes < threshold.bytes)) {
        return;
      }
      pool = new HashPool(workers);
    }
    const p = pool;
    let i = 0;
    for (; i + BATCH_FILES <= pending.length; i += BATCH_FILES) {
      const batch = pending.slice(i, i + BATCH_FILES);
      p.submit(batch.map(absOf), (ans) => apply(batch, ans));
    }
    if (final && i < pending.length) {
      const batch = pending.slice(i);
      p.submit(batch.map(absOf), (ans) => apply(batch, ans));
      i = pending.length;
    }
    pending = pending.slice(i);
    pendingBytes = 0;
  };

  try {
    const sink: WalkSink = {
      file(path) {
        const j = fileEntries.length;
        const e: MutableFileEntry = { path, type: 'file', mode: 0o644, size: 0, sha256: '' };
        entryOfFile.push(entries.length);
        entries.push(e);
        fileEntries.push(e);
        if ((j + 1) * F > fileStat.length) {
          const grown = new Float64Array(fileStat.length * 2);
          grown.set(fileStat);
          fileStat = grown;
        }
        const ci = cacheIndexOf(path);
        if (ci >= 0) {
          // Known to the cache: checked by lstat after the walk (see ./stat-check.ts).
          checkFiles.push(j);
          checkRecords.push(ci);
          return;
        }
        pending.push(j);
        if (pending.length >= BATCH_FILES || pendingBytes >= threshold.bytes) flush(false);
      },
      symlink(path, target) {
        entries.push({ path, type: 'symlink', target });
        symlinkCount++;
      },
      skipped(path, reason) {
        warnings.push({ path, reason });
        recorder?.skipped.push({ path, reason });
      },
      problem(path, reason) {
        problems.push({ path, reason });
      },
      pause() {
        if (!pool || performance.now() - lastYield < 4) return;
        lastYield = performance.now();
        return yieldToLoop();
      },
    };
    if (replay) replayTree(replay, sink);
    else {
      if (treeFile) {
        if (defaultCache) ensureStateDir(realRoot);
        else mkdirSync(dirname(treeFile), { recursive: true });
        treeStamp = fsNow(dirname(treeFile));
        recorder = new TreeRecorder();
      }
      await walkTree(realRoot, excluded, sink, recorder);
    }
    // Files with a cache record: one lstat each, on two threads for a large tree.
    known = checkFiles.length;
    if (known > 0) {
      // The answers, per record (`pre`) or per checked file (`job`).
      let status: Uint8Array;
      let found: Float64Array;
      if (pre) {
        pre.finish();
        status = pre.status;
        found = pre.found;
      } else {
        const job = newStatCheck(
          realRoot,
          checkFiles.map((j) => (fileEntries[j] as MutableFileEntry).path),
        );
        for (let k = 0; k < known; k++)
          cache.fieldsInto(checkRecords[k] as number, job.expect, k * F);
        runStatCheck(job, helper, native, Math.max(1, workers));
        status = job.status;
        found = job.found;
      }
      if (replay) hashAt = new Int32Array(entries.length).fill(-1);
      for (let k = 0; k < known; k++) {
        const j = checkFiles[k] as number;
        const ci = checkRecords[k] as number;
        const a = pre ? ci : k;
        const answer = status[a];
        if (answer === CHECK_GONE) continue; // gone or replaced: left out, as if unseen
        if (answer !== CHECK_SAME) {
          if (answer === CHECK_DIFFERENT) pendingBytes += found[a * G] as number;
          pending.push(j);
          continue;
        }
        const e = fileEntries[j] as MutableFileEntry;
        const o = a * G;
        e.sha256 = cache.hashOf(ci);
        if (hashAt) hashAt[entryOfFile[j] as number] = ci * 64;
        e.size = found[o] as number;
        e.mode = found[o + 5] === 1 ? 0o755 : 0o644;
        const p = j * F;
        fileStat[p] = found[o] as number;
        fileStat[p + 1] = found[o + 1] as number;
        fileStat[p + 2] = found[o + 2] as number;
        fileStat[p + 3] = found[o + 3] as number;
        fileStat[p + 4] = found[o + 4] as number;
        cached++;
      }
    }
    flush(true);
    lap('walk');
    if (pool) await (pool as HashPool).idle();
  } finally {
    if (pool) await (pool as HashPool).close();
    if (helper) await helper.close();
    pre?.finish();
  }

  // Hash what is left in the main thread, and what changed (or failed) while a worker read it.
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  const one = new Float64Array(STAT_FIELDS);
  for (const j of pool ? redo : [...pending, ...redo]) {
    const e = fileEntries[j] as MutableFileEntry;
    const out = hashWithRetries(e.path, absOf(j), buf);
    if (out === null) {
      goneWarning(j);
      continue;
    }
    one[1] = out.mtimeMs;
    one[2] = out.ctimeMs;
    one[3] = out.ino;
    one[4] = out.dev;
    record(j, out.sha256, out.size, out.mode === 0o755, one, 0);
  }
  lap('hash');

  // Files left without a hash were deleted (or replaced) meanwhile: leave them out.
  let files = 0;
  let bytes = 0;
  for (const e of fileEntries) {
    if (e.sha256 === '') continue;
    files++;
    bytes += e.size;
  }
  let kept = entries;
  if (files < fileEntries.length) {
    kept = entries.filter((e) => e.type !== 'file' || e.sha256 !== '');
  }
  // A replay gives exactly what the last walk gave, sorted and checked then.
  const asLastTime = replay !== null && kept === entries;
  // The walk gives manifest order, so this sort only confirms it (one comparison per entry).
  // UTF-16 order is byte order unless a path holds a code unit >= U+D800: then compare carefully.
  if (asLastTime) {
    // already in order
  } else if (kept.some((e) => WIDE.test(e.path))) {
    kept.sort((a, b) => comparePaths(a.path, b.path));
  } else kept.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (symlinkCount > 0 && !asLastTime) {
    problems.push(
      ...treeSymlinkProblems(kept).map((p) => ({
        path: p.path,
        reason: `${p.reason}; add it to .mlignore to leave it out of the snapshot`,
      })),
    );
  }
  if (problems.length > 0) throw hostile(problems);

  const manifest: TreeManifest = { version: 1, entries: kept };
  // The commit id: from last time's text where entries did not change, else from the text the
  // tree cache will keep (one pass either way).
  let text: ManifestText | null = null;
  let commitId: string;
  if (replay) {
    const hashes = hashAt && kept === entries ? { buf: cache.hashBytes, at: hashAt } : null;
    commitId = commitIdReusing(kept, replay.text, hashes) ?? commitIdOf(manifest);
  } else if (recorder) {
    text = manifestText(kept);
    commitId = commitIdOfText(text);
  } else commitId = commitIdOf(manifest);

  lap('manifest');
  // Records that name no file of this snapshot any more (deleted, renamed, now ignored).
  const stale = cache.size - known;
  const slack = Math.max(APPEND_MIN, cache.size >> 3);
  const appendable =
    cache.status === 'loaded' &&
    !cache.damaged &&
    cache.segments < APPEND_SEGMENTS &&
    cache.appended + hashed <= slack &&
    stale <= slack;
  if (cacheFile && (hashed > 0 || !appendable)) {
    try {
      if (defaultCache) ensureStateDir(realRoot);
      if (appendable) {
        // Few changes: append their records rather than rewrite them all.
        const paths: string[] = [];
        const hashes: string[] = [];
        const fields = new Float64Array(hashed * F);
        for (const j of hashedFiles) {
          const e = fileEntries[j] as MutableFileEntry;
          if (e.sha256 === '') continue;
          fields.set(fileStat.subarray(j * F, j * F + F), paths.length * F);
          paths.push(e.path);
          hashes.push(e.sha256);
        }
        appendStatCache(cacheFile, paths, hashes, fields.subarray(0, paths.length * F));
      } else {
        const paths: string[] = [];
        const hashes: string[] = [];
        const fields = new Float64Array(files * F);
        for (let j = 0; j < fileEntries.length; j++) {
          const e = fileEntries[j] as MutableFileEntry;
          if (e.sha256 === '') continue;
          fields.set(fileStat.subarray(j * F, j * F + F), paths.length * F);
          paths.push(e.path);
          hashes.push(e.sha256);
        }
        saveStatCacheColumns(cacheFile, paths, hashes, fields);
      }
    } catch (err) {
      warnings.push({ path: cacheFile, reason: `stat cache not saved: ${(err as Error).message}` });
    }
  }

  // The tree cache: after a full walk; after a replay only once many entries changed (their
  // text is made again each time until then).
  const rewriteTree = replay !== null && hashed > Math.max(APPEND_MIN, kept.length >> 3);
  if (treeFile && (recorder || rewriteTree)) {
    try {
      if (recorder)
        saveTreeCache(treeFile, treeStamp, treeKey, recorder, kept, text ?? manifestText(kept));
      else if (replay) {
        saveTreeCache(
          treeFile,
          replay.stamp,
          treeKey,
          recorderOf(replay),
          kept,
          manifestText(kept),
        );
      }
    } catch (err) {
      warnings.push({ path: treeFile, reason: `tree cache not saved: ${(err as Error).message}` });
    }
  }

  lap('saveCache');
  return {
    manifest,
    commitId,
    warnings,
    stats: {
      files,
      symlinks: symlinkCount,
      bytes,
      hashed,
      hashedBytes,
      cached,
      skipped: warnings.length,
      workers: pool ? workers : 0,
      cache: cache.status,
      tree: replay ? 'replayed' : 'walked',
      ms: Math.round((performance.now() - started) * 10) / 10,
      phases,
    },
  };
}

/** Creates `<root>/.fetchml/` with a `.gitignore` of `*`, so git leaves the state alone too. */
function ensureStateDir(root: string): void {
  const dir = join(root, STATE_DIR);
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(join(dir, '.gitignore'), '*\n', { flag: 'wx' });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
}
