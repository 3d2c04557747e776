/**
 * @module server/metrics/blob-stats
 * Blob store size and deduplication, for `/metrics`. Counting the store means listing every blob
 * and stat'ing it, which is too slow to do per scrape on a large store, so the numbers are cached:
 * a scrape gets the last computed numbers at once and, when they are older than `refreshMs`,
 * starts one recomputation in the background (never two at a time). Only the first scrape waits,
 * and at most `firstWaitMs`; until a computation has finished the gauges are absent.
 *
 * Dedup ratio = logical bytes (every stored snapshot counted in full: the store's sum of commit
 * sizes, an indexed aggregate) ÷ physical bytes (each blob once; artifacts included). Above 1,
 * snapshots share content; 0 while the store is empty.
 */
import type { BlobStore } from '../../blobs/types.ts';

/** One computation's result. */
export interface BlobStats {
  /** Bytes stored, each blob once. */
  bytes: number;
  blobs: number;
  /** Sum of the file sizes of every stored snapshot. */
  logicalBytes: number;
  dedupRatio: number;
  /** When it finished, ms since the epoch. */
  computedAtMs: number;
}

/** Options of {@link blobStatsCache}. */
export interface BlobStatsOptions {
  blobs: BlobStore;
  /** Sum of the sizes of every stored snapshot (the store's commit sizes). */
  logicalBytes(): Promise<number>;
  /** @default 300000 (5 minutes) */
  refreshMs?: number;
  /** @default 2000 */
  firstWaitMs?: number;
  clock?: () => number;
}

/** Computes the numbers once (list + stat every blob). */
export async function computeBlobStats(
  blobs: BlobStore,
  logicalBytes: () => Promise<number>,
  clock: () => number = Date.now,
): Promise<BlobStats> {
  let bytes = 0;
  let count = 0;
  for await (const sha of blobs.list()) {
    const info = await blobs.stat(sha);
    if (info === null) continue; // deleted meanwhile (gc)
    bytes += info.size;
    count++;
  }
  const logical = await logicalBytes();
  return {
    bytes,
    blobs: count,
    logicalBytes: logical,
    dedupRatio: bytes > 0 ? logical / bytes : 0,
    computedAtMs: clock(),
  };
}

/** A cache of {@link BlobStats}; `get` never waits for a refresh, except the very first time. */
export function blobStatsCache(options: BlobStatsOptions): {
  get(): Promise<BlobStats | null>;
  /** Waits for a computation in flight (tests, shutdown). */
  settled(): Promise<void>;
} {
  const refreshMs = options.refreshMs ?? 300_000;
  const firstWaitMs = options.firstWaitMs ?? 2000;
  const clock = options.clock ?? Date.now;
  let last: BlobStats | null = null;
  let running: Promise<void> | null = null;
  let lastError: Error | null = null;

  const refresh = (): Promise<void> => {
    running ??= computeBlobStats(options.blobs, () => options.logicalBytes(), clock)
      .then(
        (s) => {
          last = s;
          lastError = null;
        },
        (err: unknown) => {
          lastError = err instanceof Error ? err : new Error(String(err));
        },
      )
      .finally(() => {
        running = null;
      });
    return running;
  };

  return {
    async get() {
      if (last === null) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          refresh(),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, firstWaitMs);
            timer.unref();
          }),
        ]);
        clearTimeout(timer);
        if (last === null && lastError !== null) throw lastError;
        return last;
      }
      if (clock() - last.computedAtMs >= refreshMs) void refresh();
      return last;
    },
    async settled() {
      await running;
    },
  };
}
