/**
 * @module blobs/fs/missing
 * `missing(hashes)` for the filesystem store: which of many hashes are not stored, in one call.
 *
 * Hashes are grouped by fan-out directory. A directory asked about many times is read once with
 * `readdir`; one asked about a few times gets a `stat` per hash, because reading a directory costs
 * in proportion to the blobs it holds. Since sha256 names spread evenly over the 256 fan-out
 * directories, the first directory read tells how full all of them are, and that sets the cut-off:
 * list a directory when `hashes asked × STAT_VS_ENTRY_COST ≥ entries in it`.
 *
 * Measured on the 2-core dev VM, warm cache, 20k queried hashes (10k present), median of 5
 * (`fs-blob-store.bench.test.ts`; noisy machine, ±2×):
 *   store of  20k blobs: readdir-all   86 ms, stat-all 1752 ms
 *   store of 100k blobs: readdir-all  108 ms, stat-all 1124 ms
 *   store of 400k blobs: readdir-all 1092 ms, stat-all  560 ms
 * i.e. one stat ≈ 30–90 µs, one directory entry ≈ 1–3 µs; STAT_VS_ENTRY_COST = 20 sits between.
 * Lookups run with bounded concurrency so that 20k hashes neither serialise nor flood libuv's
 * thread pool.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { hasErrno } from './errno.ts';
import { blobFilePath, fanoutOf } from './layout.ts';

/** How many directory entries cost as much as one `stat` (see the measurements above). */
export const STAT_VS_ENTRY_COST = 20;

/** A fan-out directory asked about fewer times than this is never listed. */
export const MIN_READDIR_GROUP = 8;

/** `auto` picks per directory; `readdir` and `stat` force one way (for tests and benchmarks). */
export type MissingStrategy = 'auto' | 'readdir' | 'stat';

/** Parallel filesystem operations in flight at once. */
export const LOOKUP_CONCURRENCY = 32;

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/** True when a regular file is stored under `path`. */
export async function isStoredFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (err) {
    if (hasErrno(err, 'ENOENT') || hasErrno(err, 'ENOTDIR')) return false;
    throw err;
  }
}

/** Names of regular files in a fan-out directory (empty when it does not exist). */
async function listFanout(dir: string): Promise<Set<string>> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
  } catch (err) {
    if (hasErrno(err, 'ENOENT') || hasErrno(err, 'ENOTDIR')) return new Set();
    throw err;
  }
}

/**
 * The hashes among `unique` (validated, deduplicated) that are not stored under `root`, in input
 * order.
 */
export async function findMissing(
  root: string,
  unique: readonly string[],
  strategy: MissingStrategy = 'auto',
): Promise<string[]> {
  const byFanout = new Map<string, string[]>();
  for (const hash of unique) {
    const key = fanoutOf(hash);
    const group = byFanout.get(key);
    if (group) group.push(hash);
    else byFanout.set(key, [hash]);
  }
  const present = new Set<string>();
  const checkListed = (fanout: string, names: Set<string>): void => {
    for (const hash of byFanout.get(fanout) ?? []) {
      if (names.has(hash.slice(2))) present.add(hash);
    }
  };
  // Largest groups first: the first one listed (if any) calibrates the cut-off for the rest.
  const groups = [...byFanout].sort((a, b) => b[1].length - a[1].length);
  let minGroup = strategy === 'readdir' ? 0 : strategy === 'stat' ? Infinity : MIN_READDIR_GROUP;
  const first = groups[0];
  if (first !== undefined && first[1].length >= minGroup) {
    const names = await listFanout(join(root, first[0]));
    checkListed(first[0], names);
    groups.shift();
    if (strategy === 'auto') {
      minGroup = Math.max(MIN_READDIR_GROUP, Math.ceil(names.size / STAT_VS_ENTRY_COST));
    }
  }
  const listed = groups.filter(([, group]) => group.length >= minGroup).map(([fanout]) => fanout);
  const single = groups.filter(([, group]) => group.length < minGroup).flatMap(([, g]) => g);
  await forEachLimit(listed, LOOKUP_CONCURRENCY, async (fanout) => {
    checkListed(fanout, await listFanout(join(root, fanout)));
  });
  await forEachLimit(single, LOOKUP_CONCURRENCY, async (hash) => {
    if (await isStoredFile(blobFilePath(root, hash))) present.add(hash);
  });
  return unique.filter((hash) => !present.has(hash));
}
