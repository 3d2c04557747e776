/**
 * @module snapshot/snapshot
 * `snapshotTree`: working tree → {@link TreeManifest} + commit id. The walk (./walk.ts) feeds
 * files to the stat cache (./statcache.ts); misses are hashed in the main thread when there are
 * few, or by a worker pool (./pool.ts) started as soon as enough work is pending to pay for it,
 * so hashing overlaps the rest of the walk.
 *
 * Consistency: the hasher reads exactly the size the walk's lstat saw and then fstats the open
 * file; only if that fstat still gives the walk's stat key are the hash and key recorded (and
 * cached) together. A file that changes while it is read is re-stat'ed and re-hashed (up to
 * {@link MAX_ATTEMPTS} times), then refused. A file deleted mid-snapshot is left out with a
 * warning.
 */
import { availableParallelism } from 'node:os';
import { mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

import { FetchmlError } from '../core/errors.ts';
import type { TreeEntry, TreeManifest } from '../core/schemas/tree.ts';
import { READ_CHUNK } from './hash-file.ts';
import { commitIdOf, comparePaths, treeSymlinkProblems } from './manifest.ts';
import type { HashOutcome } from './pool.ts';
import { HashPool } from './pool.ts';
import type { StatCacheRecord } from './statcache.ts';
import { loadStatCache, saveStatCache, StatCache, statKey } from './statcache.ts';
import { hashWithRetries } from './retry.ts';
import type { SnapshotOptions, SnapshotResult, SnapshotWarning } from './types.ts';
import type { WalkedFile } from './walk.ts';
import { walkTree } from './walk.ts';

/** The directory at the tree's root that holds fetchml's own state; never snapshotted. */
export const STATE_DIR = '.fetchml';

const WIDE = /[\ud800-\uffff]/;
/** Files at least this large are hashed alone; smaller ones are batched up to this many bytes. */
const BATCH_BYTES = 4 << 20;
const BATCH_FILES = 64;

type FileRec = WalkedFile;

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
  const excluded = new Set<string>([STATE_DIR]);
  if (cacheFile) {
    const rel = relative(realRoot, cacheFile);
    if (rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep))
      excluded.add(rel.split(sep).join('/'));
  }
  const cache = cacheFile ? loadStatCache(cacheFile) : new StatCache('disabled');
  const phases = { loadCache: 0, walk: 0, hash: 0, manifest: 0, saveCache: 0 };
  let mark = started;
  const lap = (phase: keyof typeof phases) => {
    const now = performance.now();
    phases[phase] = Math.round((now - mark) * 10) / 10;
    mark = now;
  };
  lap('loadCache');

  const workers = opts.workers ?? availableParallelism();
  const threshold = opts.poolThreshold ?? { files: 256, bytes: 16 << 20 };
  const files: FileRec[] = [];
  const symlinks: { path: string; target: string }[] = [];
  const warnings: SnapshotWarning[] = [];
  const problems: SnapshotWarning[] = [];
  const outcomes = new Map<FileRec, HashOutcome>();
  let pending: FileRec[] = [];
  let pendingBytes = 0;
  let pool: HashPool | null = null;
  let lastYield = performance.now();
  let cached = 0;

  const submit = (batch: FileRec[]) => {
    (pool as HashPool).submit(
      {
        paths: batch.map((f) => f.abs),
        sizes: batch.map((f) => f.size),
        keys: batch.map((f) => statKey(f)),
      },
      (out) => batch.forEach((f, i) => outcomes.set(f, out[i] as HashOutcome)),
    );
  };
  const flush = (final: boolean) => {
    if (!pool) {
      if (workers <= 0 || (pending.length < threshold.files && pendingBytes < threshold.bytes))
        return;
      pool = new HashPool(workers);
    }
    let batch: FileRec[] = [];
    let bytes = 0;
    for (const f of pending) {
      if (f.size >= BATCH_BYTES) {
        submit([f]);
        continue;
      }
      batch.push(f);
      bytes += f.size;
      if (batch.length >= BATCH_FILES || bytes >= BATCH_BYTES) {
        submit(batch);
        batch = [];
        bytes = 0;
      }
    }
    if (final && batch.length > 0) {
      submit(batch);
      batch = [];
      bytes = 0;
    }
    pending = batch;
    pendingBytes = bytes;
  };

  try {
    await walkTree(realRoot, excluded, {
      file(rec) {
        const sha = cache.lookup(rec.path, rec);
        if (sha !== null) {
          rec.sha256 = sha;
          cached++;
        } else {
          pending.push(rec);
          pendingBytes += rec.size;
          if (pending.length >= BATCH_FILES || pendingBytes >= BATCH_BYTES) flush(false);
        }
        files.push(rec);
      },
      symlink(path, target) {
        symlinks.push({ path, target });
      },
      skipped(path, reason) {
        warnings.push({ path, reason });
      },
      problem(path, reason) {
        problems.push({ path, reason });
      },
      pause() {
        if (!pool || performance.now() - lastYield < 4) return;
        lastYield = performance.now();
        return yieldToLoop();
      },
    });
    flush(true);
    lap('walk');
    if (pool) await (pool as HashPool).idle();
  } finally {
    if (pool) await (pool as HashPool).close();
  }

  // Hash what is left in the main thread, and retry anything that changed while it was read.
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  let hashed = 0;
  let hashedBytes = 0;
  const kept: FileRec[] = [];
  for (const f of files) {
    if (f.sha256 !== null) {
      kept.push(f);
      continue;
    }
    const out = hashWithRetries(f, outcomes.get(f), buf);
    if (out === null) {
      warnings.push({ path: f.path, reason: 'deleted while the snapshot was taken; left out' });
      continue;
    }
    f.sha256 = out.sha256;
    hashed++;
    hashedBytes += out.size;
    kept.push(f);
  }

  lap('hash');
  const entries: TreeEntry[] = [];
  for (const f of kept) {
    entries.push({
      path: f.path,
      type: 'file',
      mode: f.mode,
      size: f.size,
      sha256: f.sha256 as string,
    });
  }
  for (const l of symlinks) entries.push({ path: l.path, type: 'symlink', target: l.target });
  // UTF-16 order is byte order unless a path holds a code unit >= U+D800: then compare carefully.
  if (entries.some((e) => WIDE.test(e.path))) entries.sort((a, b) => comparePaths(a.path, b.path));
  else entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  problems.push(
    ...treeSymlinkProblems(entries).map((p) => ({
      path: p.path,
      reason: `${p.reason}; add it to .mlignore to leave it out of the snapshot`,
    })),
  );
  if (problems.length > 0) throw hostile(problems);

  const manifest: TreeManifest = { version: 1, entries };
  const commitId = commitIdOf(manifest);

  lap('manifest');
  if (cacheFile && (hashed > 0 || cache.size !== cached || cache.status !== 'loaded')) {
    try {
      if (defaultCache) ensureStateDir(realRoot);
      saveStatCache(cacheFile, kept as StatCacheRecord[]);
    } catch (err) {
      warnings.push({ path: cacheFile, reason: `stat cache not saved: ${(err as Error).message}` });
    }
  }

  lap('saveCache');
  let bytes = 0;
  for (const f of kept) bytes += f.size;
  return {
    manifest,
    commitId,
    warnings,
    stats: {
      files: kept.length,
      symlinks: symlinks.length,
      bytes,
      hashed,
      hashedBytes,
      cached,
      skipped: warnings.length,
      workers: pool ? workers : 0,
      cache: cache.status,
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
