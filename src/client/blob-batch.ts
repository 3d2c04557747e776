/**
 * @module client/blob-batch
 * Encoding blob uploads for `POST /v1/blobs/batch` (the framing is specified in server/blob-batch:
 * repeated `<64-byte hex sha256><8-byte big-endian length><bytes>`), and grouping a stream of blobs
 * into requests of about {@link DEFAULT_BATCH_BYTES}, so 20k small files cost a handful of requests
 * while a big file is streamed, never buffered.
 */
import type { Readable } from 'node:stream';

import { FetchmlError } from '../core/errors.ts';

export const BLOB_BATCH_CONTENT_TYPE = 'application/vnd.fetchml.blob-batch';
export const FRAME_HEADER_BYTES = 72;
/** Bytes per batch request (frames included) before a new request starts. */
export const DEFAULT_BATCH_BYTES = 64 * 1024 * 1024;
/** Blobs per batch request. */
export const DEFAULT_BATCH_COUNT = 5000;

/** One blob to upload: its hash and size, and its bytes (in memory, or opened on demand). */
export interface BlobUpload {
  sha256: string;
  size: number;
  /** The bytes, for small blobs already in memory. */
  data?: Uint8Array;
  /** Opens the bytes (a file read stream); called once, when the frame is sent. */
  open?: () => Readable | AsyncIterable<Uint8Array> | Promise<Readable | AsyncIterable<Uint8Array>>;
}

/** Upload progress, reported after each blob is sent. */
export interface UploadProgress {
  blobs: number;
  bytes: number;
}

export function frameHeader(sha256: string, size: number): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.write(sha256, 0, 64, 'latin1');
  header.writeBigUInt64BE(BigInt(size), 64);
  return header;
}

/** The encoded body of one batch; fails when a blob's bytes are not exactly its `size`. */
export async function* encodeBatch(
  blobs: readonly BlobUpload[],
  onBlobSent?: (blob: BlobUpload) => void,
): AsyncGenerator<Uint8Array> {
  for (const blob of blobs) {
    yield frameHeader(blob.sha256, blob.size);
    let sent = 0;
    const source = blob.data ? [blob.data] : await blob.open?.();
    if (!source) throw new FetchmlError('ML_ERR_VALIDATION', `blob ${blob.sha256}: no data`);
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      sent += chunk.byteLength;
      if (sent > blob.size) break;
      yield chunk;
    }
    if (sent !== blob.size) {
      throw new FetchmlError(
        'ML_ERR_VALIDATION',
        `blob ${blob.sha256} changed while uploading (expected ${blob.size} bytes, read ${sent}); sync again`,
        { details: { sha256: blob.sha256 } },
      );
    }
    onBlobSent?.(blob);
  }
}

/** Coalesces small chunks into writes of about `target` bytes (one syscall each, not thousands). */
export async function* coalesce(
  source: AsyncIterable<Uint8Array>,
  target = 256 * 1024,
): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of source) {
    if (chunk.byteLength >= target && parts.length === 0) {
      yield chunk;
      continue;
    }
    parts.push(chunk);
    bytes += chunk.byteLength;
    if (bytes >= target) {
      yield Buffer.concat(parts);
      parts = [];
      bytes = 0;
    }
  }
  if (parts.length > 0) yield Buffer.concat(parts);
}

/** Body length of a batch. */
export function batchLength(blobs: readonly BlobUpload[]): number {
  return blobs.reduce((n, b) => n + FRAME_HEADER_BYTES + b.size, 0);
}

/** Groups `blobs` into batches of at most `maxBytes` (a bigger blob goes alone) and `maxCount`. */
export async function* groupBatches(
  blobs: Iterable<BlobUpload> | AsyncIterable<BlobUpload>,
  maxBytes = DEFAULT_BATCH_BYTES,
  maxCount = DEFAULT_BATCH_COUNT,
): AsyncGenerator<BlobUpload[]> {
  let batch: BlobUpload[] = [];
  let bytes = 0;
  for await (const blob of blobs) {
    const size = FRAME_HEADER_BYTES + blob.size;
    if (batch.length > 0 && (bytes + size > maxBytes || batch.length >= maxCount)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(blob);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}
