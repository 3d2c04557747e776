/**
 * @module snapshot/upload
 * Sends a snapshot's blobs to a server that lacks them, without knowing the transport: the
 * caller passes `missing` (ask which hashes the server lacks, many per request) and `upload` (send
 * one batch). Batches are bounded by count and bytes so a sync takes few requests and bounded
 * memory: each item opens its file only when the transport reads it.
 *
 * The file may have changed since it was hashed; the receiving store verifies every blob against
 * its hash (BlobStore.put with `expected`), so a stale file is rejected there, never stored
 * under the wrong key.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

import { assertRelativePath } from '../core/paths.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';

/** One blob to send. */
export interface UploadItem {
  sha256: string;
  size: number;
  /** A manifest path holding these bytes (the first, when several do). */
  path: string;
  /** Opens the file's bytes. */
  open(): Readable;
}

/** The transport: two calls the HTTP client (or a local store) provides. */
export interface UploadTransport {
  /** The hashes among `hashes` the other side lacks. */
  missing(hashes: string[]): Promise<string[]>;
  /** Sends one batch. */
  upload(batch: UploadItem[]): Promise<void>;
}

/** Options of {@link uploadMissing}. */
export interface UploadOptions {
  /** Hashes per `missing` call. @default 5000 */
  queryBatch?: number;
  /** Most items per upload batch. @default 256 */
  batchFiles?: number;
  /** Most bytes per upload batch (a larger single file is a batch of its own). @default 64 MiB */
  batchBytes?: number;
  /** Called after each batch. */
  onProgress?: (p: {
    blobs: number;
    bytes: number;
    totalBlobs: number;
    totalBytes: number;
  }) => void;
}

/** What {@link uploadMissing} did. */
export interface UploadStats {
  /** Distinct blobs in the manifest. */
  blobs: number;
  missing: number;
  uploadedBytes: number;
  requests: number;
}

/** Uploads every blob of `manifest` (files under `root`) that `transport.missing` reports. */
export async function uploadMissing(
  manifest: TreeManifest,
  root: string,
  transport: UploadTransport,
  opts: UploadOptions = {},
): Promise<UploadStats> {
  const bySha = new Map<string, { size: number; path: string }>();
  for (const e of manifest.entries) {
    if (e.type === 'file' && !bySha.has(e.sha256))
      bySha.set(e.sha256, { size: e.size, path: assertRelativePath(e.path) });
  }
  const all = [...bySha.keys()];
  const queryBatch = opts.queryBatch ?? 5000;
  let requests = 0;
  const missing: string[] = [];
  for (let i = 0; i < all.length; i += queryBatch) {
    missing.push(...(await transport.missing(all.slice(i, i + queryBatch))));
    requests++;
  }
  const totalBytes = missing.reduce((n, s) => n + (bySha.get(s)?.size ?? 0), 0);
  const maxFiles = opts.batchFiles ?? 256;
  const maxBytes = opts.batchBytes ?? 64 << 20;
  let batch: UploadItem[] = [];
  let batchBytes = 0;
  let done = 0;
  let doneBytes = 0;
  const send = async () => {
    if (batch.length === 0) return;
    await transport.upload(batch);
    requests++;
    done += batch.length;
    doneBytes += batchBytes;
    batch = [];
    batchBytes = 0;
    opts.onProgress?.({ blobs: done, bytes: doneBytes, totalBlobs: missing.length, totalBytes });
  };
  for (const sha of missing) {
    const info = bySha.get(sha);
    if (!info) continue; // not ours: the transport answered for a hash we did not ask about
    if (batch.length > 0 && (batch.length >= maxFiles || batchBytes + info.size > maxBytes))
      await send();
    const abs = join(root, ...info.path.split('/'));
    batch.push({
      sha256: sha,
      size: info.size,
      path: info.path,
      open: () => createReadStream(abs),
    });
    batchBytes += info.size;
  }
  await send();
  return { blobs: all.length, missing: missing.length, uploadedBytes: doneBytes, requests };
}
