/**
 * @module blobs/types
 * BlobStore: content-addressed storage. The key of a blob is the sha256 hex of its bytes.
 *
 * Contract (checked by test/conformance/blobs.suite.ts on every backend):
 * - `put` hashes while streaming; if the bytes do not match `expected`, nothing is stored and
 *   ML_ERR_BLOB_HASH_MISMATCH is thrown. Writes are atomic: readers never see a partial blob.
 * - `missing` answers for many hashes in one call, in input order, without duplicates.
 * - `get` of an absent blob throws ML_ERR_BLOB_NOT_FOUND. Invalid hashes (anything but 64
 *   lowercase hex digits) throw ML_ERR_BLOB_INVALID_HASH before any IO.
 * - `delete` is idempotent. `list` yields every stored hash (for garbage collection).
 */
import type { Readable } from 'node:stream';

/** What `put` returns: the blob's key and its size in bytes. */
export interface BlobStat {
  sha256: string;
  size: number;
}

/** What `stat` returns: {@link BlobStat} plus when the blob was stored. */
export interface BlobInfo extends BlobStat {
  /**
   * When the stored copy was written, in ms since the epoch (fs: file mtime; S3: LastModified).
   * Garbage collection uses it to spare blobs younger than its grace period.
   */
  storedAtMs: number;
}

/** The result of {@link BlobStore.verify}. */
export interface BlobVerifyResult {
  sha256: string;
  /** True when the stored bytes hash to `sha256`. */
  ok: boolean;
  /** The hash of the bytes actually stored. */
  actual: string;
  /** Bytes read. */
  size: number;
}

export interface BlobStoreCapabilities {
  /** Blobs are files on this machine: `localPath` works and materialize can hard-link them. */
  localFiles: boolean;
}

export interface BlobStore {
  readonly capabilities: BlobStoreCapabilities;
  /** Creates directories / buckets as needed and cleans up after crashed writers. Idempotent. */
  init(): Promise<void>;
  /**
   * Stores `data` (a string is stored as UTF-8). With `expected`, the computed hash must equal it.
   * Returns the hash and size. Storing a blob that already exists is a cheap no-op (the data is
   * still consumed and verified). An invalid `expected` is refused before `data` is read.
   */
  put(data: Readable | Uint8Array | string, expected?: string): Promise<BlobStat>;
  /** Streams a stored blob. Throws ML_ERR_BLOB_NOT_FOUND (from the call, not the stream). */
  get(sha256: string): Promise<Readable>;
  /** Size and store time of a stored blob, or null when absent. */
  stat(sha256: string): Promise<BlobInfo | null>;
  has(sha256: string): Promise<boolean>;
  /** The hashes among `hashes` that are not stored (input order, deduplicated). */
  missing(hashes: readonly string[]): Promise<string[]>;
  delete(sha256: string): Promise<void>;
  /** Every stored hash, for garbage collection. */
  list(): AsyncIterable<string>;
  /**
   * Re-reads a stored blob and checks that its bytes still hash to its name (bit rot, a hard
   * link written through). Throws ML_ERR_BLOB_NOT_FOUND when absent. Optional: a backend whose
   * storage checks itself may leave it out.
   */
  verify?(sha256: string): Promise<BlobVerifyResult>;
  /**
   * Path of the blob's file (only when `capabilities.localFiles`); the file must not be modified.
   * Does not check that the blob exists.
   */
  localPath?(sha256: string): string;
  close(): Promise<void>;
}
