/**
 * @module blobs/types
 * BlobStore: content-addressed storage. The key of a blob is the sha256 hex of its bytes.
 *
 * Contract (checked by test/conformance/blobs.suite.ts on every backend):
 * - `put` hashes while streaming; if the bytes do not match `expected`, nothing is stored and
 *   ML_ERR_BLOB_HASH_MISMATCH is thrown. Writes are atomic: readers never see a partial blob.
 * - `missing` answers for many hashes in one call, in input order, without duplicates.
 * - `get` of an absent blob throws ML_ERR_BLOB_NOT_FOUND. Invalid hashes throw ML_ERR_BLOB_INVALID_HASH.
 * - `delete` is idempotent. `list` yields every stored hash (for garbage collection).
 */
import type { Readable } from 'node:stream';

export interface BlobStat {
  sha256: string;
  size: number;
}

export interface BlobStoreCapabilities {
  /** Blobs are files on this machine: `localPath` works and materialize can hard-link them. */
  localFiles: boolean;
}

export interface BlobStore {
  readonly capabilities: BlobStoreCapabilities;
  /** Creates directories / buckets as needed. Idempotent. */
  init(): Promise<void>;
  /**
   * Stores `data`. With `expected`, the computed hash must equal it. Returns the hash and size.
   * Storing a blob that already exists is a cheap no-op (the data is still consumed and verified).
   */
  put(data: Readable | Uint8Array | string, expected?: string): Promise<BlobStat>;
  /** Streams a stored blob. */
  get(sha256: string): Promise<Readable>;
  /** Size of a stored blob, or null when absent. */
  stat(sha256: string): Promise<BlobStat | null>;
  has(sha256: string): Promise<boolean>;
  /** The hashes among `hashes` that are not stored (input order, deduplicated). */
  missing(hashes: readonly string[]): Promise<string[]>;
  delete(sha256: string): Promise<void>;
  /** Every stored hash, for garbage collection. */
  list(): AsyncIterable<string>;
  /** Path of the blob's file (only when `capabilities.localFiles`); the file must not be modified. */
  localPath?(sha256: string): string;
  close(): Promise<void>;
}
