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
import type { TreeCache } from './tree-cache.ts';
import {
  fsNow,
  appendTreePatch,
  KIND_FILE,
  loadTreeCache,
  recorderOf,
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
  const threads = Math.max(1, workers);
  const native = opts.native === false ? null : nativeStats();
  const phases = { loadCache: 0, walk: 0, hash: 0, manifest: 0, saveCache: 0 };
  let mark = started;
  const lap = (phase: keyof typeof phases) => {
    const now = performance.now();
    phases[phase] = Math.round((now - mark) * 10) / 10;
    mark = now;
  };
  // Same directories and ignore files as last time: replay that walk instead of walking. The tree
  // cache holds each file's stat data and hash too, so a replay does not read the stat cache;
  // its files' lstat calls start at once, on threads of their own.
  const tree = treeFile ? loadTreeCache(treeFile, treeKey) : null;
  const replay = tree !== null && treeUnchanged(realRoot, tree) ? tree : null;
  const treePre =
    replay && native && replay.paths.length >= PRECHECK_MIN
      ? new StatPrecheck(
          native,
          realRoot,
          replay.pathList,
          replay.expect,
          replay.paths.length,
          threads,
        )
      : null;
  // Walking: the stat cache's records are checked natively (threads of their own) while the main
  // thread walks; or, without the native helper and for a large stat cache, a helper thread
  // shares the check, started now so that it starts up while the cache is read and the tree walked.
  const helper =
    !native &&
    !replay &&
    cacheFile &&
    workers >= 2 &&
    (statSync(cacheFile, { throwIfNoEntry: false })?.size ?? 0) >= HELPER_MIN_BYTES
      ? new StatHelper()
      : null;
  const cache =
    cacheFile && !replay
      ? loadStatCache(cacheFile)
      : new StatCache(cacheFile ? 'loaded' : 'disabled');
  const pre =
    native && cache.records >= PRECHECK_MIN
      ? new StatPrecheck(
          native,
          realRoot,
          cache.recordPaths(),
          cache.recordFields(),
          cache.records,
          threads,
        )
      : null;
  lap('loadCache');
  const cacheIndexOf = cache.cursor();

  const threshold = opts.poolThreshold ?? { files: 256, bytes: 16 << 20 };
  const entries: TreeEntry[] = [];
  // Per file, in walk order: its entry (sha256 '' until known) and F stat numbers in fileStat.
  const fileEntries: MutableFileEntry[] = [];
  let fileStat = new Float64Array(Math.max(1024, (replay?.paths.length ?? cache.size) + 64) * F);
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
  /** On a replay: per entry, 1 when its hash came from the cached manifest text (see commitIdReusing). */
  let fromText: Uint8Array | null = null;
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

  /**
   * Takes file `j`'s stat check answer (its lstat numbers in `found` at `o`): unchanged, it gets
   * `sha256` and its size and mode (returns true); changed, it is queued for hashing; gone, it is
   * left out, as if unseen.
   */
  const take = (j: number, answer: number, found: Float64Array, o: number, sha256: string) => {
    if (answer === CHECK_GONE) return false;
    if (answer !== CHECK_SAME) {
      if (answer === CHECK_DIFFERENT) pendingBytes += found[o] as number;
      pending.push(j);
      return false;
    }
    const e = fileEntries[j] as MutableFileEntry;
    e.sha256 = sha256;
    e.size = found[o] as number;
    e.mode = found[o + 5] === 1 ? 0o755 : 0o644;
    const p = j * F;
    fileStat[p] = found[o] as number;
    fileStat[p + 1] = found[o + 1] as number;
    fileStat[p + 2] = found[o + 2] as number;
    fileStat[p + 3] = found[o + 3] as number;
    fileStat[p + 4] = found[o + 4] as number;
    cached++;
    return true;
  };
  /** Grows `fileStat` to hold file `j`. */
  const room = (j: number) => {
    if ((j + 1) * F <= fileStat.length) return;
    const grown = new Float64Array(fileStat.length * 2);
    grown.set(fileStat);
    fileStat = grown;
  };
  /**
   * The replayed walk's entries: a file whose stat data is as recorded takes its recorded hash (a
   * patch's, or the one in the manifest text), the rest are hashed. Returns, per entry, 1 where the
   * hash came from the manifest text.
   */
  const replayFiles = (t: TreeCache): Uint8Array => {
    const n = t.paths.length;
    // First the entries (while the native check runs), then the check's answers.
    const fileAt = new Int32Array(n).fill(-1);
    let link = 0;
    for (let i = 0; i < n; i++) {
      const path = t.paths[i] as string;
      if (t.kinds[i] !== KIND_FILE) {
        entries.push({ path, type: 'symlink', target: t.targets[link++] as string });
        symlinkCount++;
        continue;
      }
      fileAt[i] = fileEntries.length;
      const e: MutableFileEntry = { path, type: 'file', mode: 0o644, size: 0, sha256: '' };
      entryOfFile.push(i);
      entries.push(e);
      fileEntries.push(e);
    }
    room(fileEntries.length);
    const { shaAt, bytes } = t.text;
    const patched = t.patched.size > 0 ? t.patched : null;
    let status: Uint8Array;
    let found: Float64Array;
    if (treePre) {
      treePre.finish();
      status = treePre.status;
      found = treePre.found;
    } else {
      const job = newStatCheck(realRoot, t.paths);
      job.expect.set(t.expect);
      runStatCheck(job, null, native, threads);
      status = job.status;
      found = job.found;
    }
    const fresh = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const j = fileAt[i] as number;
      if (j < 0) continue;
      const sha = patched?.get(i);
      const at = shaAt[i] as number;
      const hash = sha ?? bytes.toString('latin1', at, at + 64);
      if (take(j, status[i] as number, found, i * G, hash) && sha === undefined) fresh[i] = 1;
    }
    return fresh;
  };

  try {
    const sink: WalkSink = {
      file(path) {
        const j = fileEntries.length;
        const e: MutableFileEntry = { path, type: 'file', mode: 0o644, size: 0, sha256: '' };
        entryOfFile.push(entries.length);
        entries.push(e);
        fileEntries.push(e);
        room(j);
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
    if (replay) {
      fromText = replayFiles(replay);
      for (const w of replay.skipped) warnings.push({ ...w });
    } else {
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
        runStatCheck(job, helper, native, threads);
        status = job.status;
        found = job.found;
      }
      for (let k = 0; k < known; k++) {
        const j = checkFiles[k] as number;
        const ci = checkRecords[k] as number;
        const a = pre ? ci : k;
        take(j, status[a] as number, found, a * G, cache.hashOf(ci));
      }
    }
    flush(true);
    lap('walk');
    if (pool) await (pool as HashPool).idle();
  } finally {
    if (pool) await (pool as HashPool).close();
    if (helper) await helper.close();
    pre?.finish();
    treePre?.finish();
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
    commitId = commitIdReusing(kept, replay.text, fromText) ?? commitIdOf(manifest);
  } else if (recorder) {
    text = manifestText(kept);
    commitId = commitIdOfText(text);
  } else commitId = commitIdOf(manifest);

  lap('manifest');
  if (replay) saveAfterReplay(replay);
  else saveAfterWalk();
  /** Per entry of `entries`, the stat data its file was hashed with (NaN for a symlink). */
  function expectOf(): Float64Array {
    const out = new Float64Array(entries.length * F).fill(NaN);
    for (let j = 0; j < fileEntries.length; j++) {
      if ((fileEntries[j] as MutableFileEntry).sha256 === '') continue;
      out.set(fileStat.subarray(j * F, j * F + F), (entryOfFile[j] as number) * F);
    }
    return out;
  }

  /** Saving after a walk: the stat cache (appended to, or rewritten) and the tree cache. */
  function saveAfterWalk(): void {
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
        warnings.push({
          path: cacheFile,
          reason: `stat cache not saved: ${(err as Error).message}`,
        });
      }
    }

    // The tree cache, for the next snapshot: unless files vanished while this one was taken (their
    // directories changed, so the next one walks anyway).
    if (treeFile && recorder && kept === entries) {
      try {
        saveTreeCache(
          treeFile,
          treeStamp,
          treeKey,
          recorder,
          kept,
          text ?? manifestText(kept),
          expectOf(),
        );
      } catch (err) {
        warnings.push({
          path: treeFile,
          reason: `tree cache not saved: ${(err as Error).message}`,
        });
      }
    }
  }

  /**
   * Saving after a replay: what was hashed again is appended to both caches (the stat cache only
   * if it exists: it serves walks); many patches make the tree cache rewritten whole.
   */
  function saveAfterReplay(t: TreeCache): void {
    if (hashed === 0 || !treeFile) return;
    const index: number[] = [];
    const paths: string[] = [];
    const hashes: string[] = [];
    const fields = new Float64Array(hashed * F);
    for (const j of hashedFiles) {
      const e = fileEntries[j] as MutableFileEntry;
      if (e.sha256 === '') continue;
      fields.set(fileStat.subarray(j * F, j * F + F), paths.length * F);
      index.push(entryOfFile[j] as number);
      paths.push(e.path);
      hashes.push(e.sha256);
    }
    const stat = fields.subarray(0, paths.length * F);
    try {
      if (
        kept === entries &&
        (t.patches >= APPEND_SEGMENTS ||
          t.patchRecords + paths.length > Math.max(APPEND_MIN, entries.length >> 3))
      ) {
        saveTreeCache(
          treeFile,
          t.stamp,
          treeKey,
          recorderOf(t),
          kept,
          manifestText(kept),
          expectOf(),
        );
      } else appendTreePatch(treeFile, Int32Array.from(index), stat, hashes);
    } catch (err) {
      warnings.push({ path: treeFile, reason: `tree cache not saved: ${(err as Error).message}` });
    }
    if (cacheFile) {
      try {
        appendStatCache(cacheFile, paths, hashes, stat);
      } catch {
        // no stat cache (yet): the next walk writes one
      }
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
