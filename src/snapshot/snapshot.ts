/**
 * @module snapshot/snapshot
 * `snapshotTree`: working tree → {@link TreeManifest} + commit id. The walk (./walk.ts) feeds
 * files to the stat cache (./statcache.ts); misses are hashed in the main thread when there are
 * few, or by a worker pool (./pool.ts) started as soon as enough work is pending to pay for it,
 * so hashing overlaps the rest of the walk.
 *
 * Consistency: a file's size and cache key come from the fstat taken by the hasher around the
 * bytes it read, not from the walk's lstat; a file that changes while it is read is re-hashed (up
 * to {@link MAX_ATTEMPTS} times) and then refused. A file deleted mid-snapshot is left out with
 * a warning.
 */
import { availableParallelism } from 'node:os';
import { mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

import { FetchmlError } from '../core/errors.ts';
import type { TreeEntry, TreeManifest } from '../core/schemas/tree.ts';
import type { HashedFile } from './hash-file.ts';
import { hashFileSync, READ_CHUNK } from './hash-file.ts';
import { commitIdOf, comparePaths, treeSymlinkProblems } from './manifest.ts';
import type { HashOutcome } from './pool.ts';
import { HashPool } from './pool.ts';
import type { CachedHash, StatCacheStatus } from './statcache.ts';
import { loadStatCache, saveStatCache } from './statcache.ts';
import type { WalkedFile } from './walk.ts';
import { walkTree } from './walk.ts';

/** The directory at the tree's root that holds fetchml's own state; never snapshotted. */
export const STATE_DIR = '.fetchml';

const MAX_ATTEMPTS = 3;
/** Files at least this large are hashed alone; smaller ones are batched up to this many bytes. */
const BATCH_BYTES = 4 << 20;
const BATCH_FILES = 128;

/** Options of {@link snapshotTree}. */
export interface SnapshotOptions {
  /**
   * Stat cache file, or `false` for none. Default `<root>/.fetchml/statcache` (the `.fetchml/`
   * directory is always left out of snapshots and gets a `.gitignore` of `*`).
   */
  statCache?: string | false;
  /** Hashing workers. Default: `os.availableParallelism()`. 0 hashes in the main thread only. */
  workers?: number;
  /**
   * How much pending hashing starts the worker pool (below both, the main thread hashes).
   * @default { files: 1000, bytes: 32 MiB }
   */
  poolThreshold?: { files: number; bytes: number };
}

/** Counters of one snapshot. */
export interface SnapshotStats {
  files: number;
  symlinks: number;
  /** Total size of the files. */
  bytes: number;
  /** Files read and hashed by this call. */
  hashed: number;
  hashedBytes: number;
  /** Files whose hash came from the stat cache. */
  cached: number;
  /** Sockets, fifos, devices and vanished files left out (see `warnings`). */
  skipped: number;
  /** Worker threads used (0: all hashing was done in the main thread). */
  workers: number;
  cache: StatCacheStatus;
  ms: number;
}

/** Something left out of the snapshot that the user may want to know about. */
export interface SnapshotWarning {
  path: string;
  reason: string;
}

/** The result of {@link snapshotTree}. */
export interface SnapshotResult {
  manifest: TreeManifest;
  /** `canonicalSha256(manifest)`. */
  commitId: string;
  stats: SnapshotStats;
  warnings: SnapshotWarning[];
}

interface FileRec extends WalkedFile {
  sha256: string | null;
}

function hostile(problems: SnapshotWarning[]): FetchmlError {
  const first = problems[0] as SnapshotWarning;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new FetchmlError(
    'ML_ERR_PATH_HOSTILE',
    `refusing path ${JSON.stringify(first.path)}: ${first.reason}${more}`,
    { details: { path: first.path, problems: problems.slice(0, 100) } },
  );
}

function hashError(path: string, out: { error: string; code?: string }): FetchmlError {
  return new FetchmlError(
    'ML_ERR_VALIDATION',
    `cannot read ${JSON.stringify(path)} (${out.code ?? out.error}); fix its permissions or add it to .mlignore`,
    { details: { path } },
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
  const loaded = cacheFile
    ? loadStatCache(cacheFile)
    : { entries: new Map<string, CachedHash>(), status: 'disabled' as const };
  const cache = loaded.entries;

  const workers = opts.workers ?? availableParallelism();
  const threshold = opts.poolThreshold ?? { files: 1000, bytes: 32 << 20 };
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
      batch.map((f) => f.abs),
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
      file(f) {
        const rec = f as FileRec;
        const hit = cache.get(f.path);
        if (hit && hit.key === f.key) {
          rec.sha256 = hit.sha256;
          cached++;
        } else {
          rec.sha256 = null;
          pending.push(rec);
          pendingBytes += f.size;
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
    let out: HashOutcome | undefined = outcomes.get(f);
    for (let attempt = 0; ; attempt++) {
      if (out === undefined || (attempt > 0 && 'sha256' in out && out.changed)) {
        try {
          out = hashFileSync(f.abs, buf);
        } catch (err) {
          const e = err as { code?: string; message?: string };
          out = { error: e.message ?? String(err), code: e.code ?? 'error' };
        }
      }
      if ('error' in out || !out.changed) break;
      if (attempt + 1 >= MAX_ATTEMPTS) {
        throw new FetchmlError(
          'ML_ERR_CONFLICT',
          `${JSON.stringify(f.path)} kept changing while it was snapshotted; stop what writes it, or add it to .mlignore`,
          { details: { path: f.path } },
        );
      }
    }
    if ('error' in out) {
      if (out.code === 'ENOENT') {
        warnings.push({ path: f.path, reason: 'deleted while the snapshot was taken; left out' });
        continue;
      }
      if (out.code === 'ELOOP' || out.code === 'EISDIR') {
        throw new FetchmlError(
          'ML_ERR_CONFLICT',
          `${JSON.stringify(f.path)} was replaced while it was snapshotted; snapshot again`,
          { details: { path: f.path } },
        );
      }
      throw hashError(f.path, out);
    }
    const h: HashedFile = out;
    f.sha256 = h.sha256;
    f.size = h.size;
    f.key = h.key;
    f.mtimeNs = BigInt(h.mtimeNs);
    hashed++;
    hashedBytes += h.size;
    kept.push(f);
  }

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
  entries.sort((a, b) => comparePaths(a.path, b.path));
  problems.push(
    ...treeSymlinkProblems(entries).map((p) => ({
      path: p.path,
      reason: `${p.reason}; add it to .mlignore to leave it out of the snapshot`,
    })),
  );
  if (problems.length > 0) throw hostile(problems);

  const manifest: TreeManifest = { version: 1, entries };
  const commitId = commitIdOf(manifest);

  if (cacheFile && (hashed > 0 || cache.size !== cached || loaded.status !== 'loaded')) {
    try {
      if (defaultCache) ensureStateDir(realRoot);
      saveStatCache(
        cacheFile,
        kept.map((f) => ({
          path: f.path,
          key: f.key,
          sha256: f.sha256 as string,
          mtimeNs: f.mtimeNs,
        })),
      );
    } catch (err) {
      warnings.push({ path: cacheFile, reason: `stat cache not saved: ${(err as Error).message}` });
    }
  }

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
      cache: loaded.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
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
