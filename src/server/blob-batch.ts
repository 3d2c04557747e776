/**
 * @module server/blob-batch
 * Decoding `POST /v1/blobs/batch` bodies, so a sync of 20k small files is a few requests.
 *
 * Framing (Content-Type `application/vnd.fetchml.blob-batch`), repeated until the body ends:
 *
 * ```
 * frame := sha256   64 bytes, ASCII lower-case hex: the blob's expected hash
 *          length    8 bytes, unsigned big-endian: the blob's size in bytes
 *          bytes     `length` bytes of content
 * ```
 *
 * No header or trailer; an empty body is a valid empty batch; a body that ends inside a frame is
 * ML_ERR_VALIDATION. Every blob is verified against its hash by the BlobStore (a mismatch stores
 * nothing for that blob and fails the request with ML_ERR_BLOB_HASH_MISMATCH; blobs stored before it
 * stay, which is harmless in a content-addressed store). Small blobs are buffered and written
 * {@link BATCH_CONCURRENCY} at a time (each write fsyncs, so parallel writes are what makes many
 * small files fast); large ones stream straight into the store.
 */
import { Readable } from 'node:stream';

import type { BlobStat, BlobStore } from '../blobs/types.ts';
import { coerceError, FetchmlError } from '../core/errors.ts';
import { isSha256Hex } from '../core/hash.ts';
import { ByteReader } from './byte-reader.ts';

export const BLOB_BATCH_CONTENT_TYPE = 'application/vnd.fetchml.blob-batch';
export const FRAME_HEADER_BYTES = 72;
/** Blobs up to this size are buffered and written in parallel. */
export const SMALL_BLOB_BYTES = 1024 * 1024;
export const BATCH_CONCURRENCY = 32;

/** Reads every frame of `body` into `blobs`; returns what was stored, in body order. */
export async function storeBlobBatch(
  blobs: BlobStore,
  body: AsyncIterable<Buffer | string>,
): Promise<BlobStat[]> {
  const reader = new ByteReader(body);
  const stored: (BlobStat | undefined)[] = [];
  const inflight = new Set<Promise<void>>();
  // A holder, not a `let`: TypeScript cannot see the callbacks below assign it.
  const state: { failure: FetchmlError | null } = { failure: null };

  const track = (index: number, put: Promise<BlobStat>): Promise<void> => {
    const p = put.then(
      (stat) => {
        stored[index] = stat;
      },
      (err: unknown) => {
        state.failure ??= coerceError(err);
      },
    );
    const tracked = p.finally(() => inflight.delete(tracked));
    inflight.add(tracked);
    return tracked;
  };

  for (let index = 0; state.failure === null; index++) {
    const header = await reader.readExact(FRAME_HEADER_BYTES, `frame ${index} header`);
    if (header === null) break;
    const sha = header.subarray(0, 64).toString('latin1');
    if (!isSha256Hex(sha)) {
      throw new FetchmlError(
        'ML_ERR_BLOB_INVALID_HASH',
        `frame ${index}: ${JSON.stringify(header.subarray(0, 64).toString('latin1'))} is not a lower-case sha256 hex digest`,
        { details: { frame: index } },
      );
    }
    const length = header.readBigUInt64BE(64);
    if (length > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FetchmlError('ML_ERR_BODY_TOO_LARGE', `frame ${index}: length ${length} too large`);
    }
    const size = Number(length);
    if (size <= SMALL_BLOB_BYTES) {
      const data = (await reader.readExact(size, `frame ${index} (${sha})`)) ?? Buffer.alloc(0);
      if (data.length !== size) {
        throw new FetchmlError('ML_ERR_VALIDATION', `body: truncated frame ${index}`);
      }
      // Copy: the reader's buffer may be a view of a larger chunk.
      void track(index, blobs.put(Buffer.from(data), sha));
      while (inflight.size >= BATCH_CONCURRENCY) await Promise.race(inflight);
    } else {
      await Promise.all(inflight);
      if (state.failure !== null) break;
      await track(
        index,
        blobs.put(Readable.from(reader.stream(size, `frame ${index} (${sha})`)), sha),
      );
    }
  }
  await Promise.all(inflight);
  if (state.failure !== null) throw state.failure;
  return stored.filter((s): s is BlobStat => s !== undefined);
}
