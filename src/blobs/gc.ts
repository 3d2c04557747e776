/**
 * @module blobs/gc
 * Garbage collection for any BlobStore: delete the blobs nothing references.
 *
 * Two races shape it:
 * - An upload in progress stores its blobs before the commit manifest that references them
 *   exists. Blobs stored less than `graceMs` ago are therefore never collected, so a collector
 *   running during an upload leaves its blobs alone (the grace must exceed the longest upload).
 * - A client that asked `missing()` and was told a blob is present will not upload it again; if
 *   the collector deletes it in between, the client's commit references a blob that is gone. The
 *   grace period does not cover this (the blob is old). Whoever accepts a commit must therefore
 *   re-check its blobs with `missing()` when recording it, and the reference set given to the
 *   collector must be read *after* it starts listing, never cached from earlier.
 *
 * Works only through the BlobStore interface (list, stat, delete), so every backend gets it.
 */
import type { BlobStore } from './types.ts';

/** Default grace period: blobs stored in the last 24 hours are never collected. */
export const DEFAULT_GC_GRACE_MS = 24 * 60 * 60 * 1000;

/** Which hashes are in use: a set, or a predicate (which may look them up asynchronously). */
export type BlobReferences = ReadonlySet<string> | ((sha256: string) => boolean | Promise<boolean>);

export interface GcOptions {
  /** Report what would be deleted without deleting anything. @default false */
  dryRun?: boolean;
  /** Blobs stored more recently than this are kept even when unreferenced. @default 24 hours */
  graceMs?: number;
  /** The clock, in ms since the epoch (tests move it forward). @default Date.now */
  now?: () => number;
  /** Called after each blob is examined, for progress display. */
  onProgress?: (progress: { scanned: number; deleted: number }) => void;
}

export interface GcReport {
  dryRun: boolean;
  /** Blobs examined. */
  scanned: number;
  /** Blobs kept because they are referenced. */
  referenced: number;
  /** Unreferenced blobs kept because they are younger than the grace period. */
  young: number;
  /** Hashes deleted (or, with `dryRun`, that would be deleted). */
  deleted: string[];
  /** Bytes freed (or that would be freed). */
  bytesFreed: number;
}

/**
 * Deletes every blob of `blobs` that `referenced` does not name and that was stored at least
 * `graceMs` ago. Returns what it did.
 *
 * @example
 * const report = await collectGarbage(blobs, await store.referencedBlobs(), { dryRun: true });
 */
export async function collectGarbage(
  blobs: BlobStore,
  referenced: BlobReferences,
  options: GcOptions = {},
): Promise<GcReport> {
  const dryRun = options.dryRun ?? false;
  const graceMs = options.graceMs ?? DEFAULT_GC_GRACE_MS;
  const now = options.now ?? Date.now;
  const isReferenced =
    typeof referenced === 'function' ? referenced : (h: string) => referenced.has(h);
  const report: GcReport = {
    dryRun,
    scanned: 0,
    referenced: 0,
    young: 0,
    deleted: [],
    bytesFreed: 0,
  };
  for await (const sha256 of blobs.list()) {
    report.scanned += 1;
    if (await isReferenced(sha256)) {
      report.referenced += 1;
    } else {
      const info = await blobs.stat(sha256);
      if (info === null) {
        // Deleted by someone else since it was listed: nothing to do.
      } else if (now() - info.storedAtMs < graceMs) {
        report.young += 1;
      } else {
        if (!dryRun) await blobs.delete(sha256);
        report.deleted.push(sha256);
        report.bytesFreed += info.size;
      }
    }
    options.onProgress?.({ scanned: report.scanned, deleted: report.deleted.length });
  }
  return report;
}
