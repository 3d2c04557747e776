/**
 * @module blobs/hash-check
 * Validation of blob keys, shared by every backend so that a bad hash is refused the same way
 * (ML_ERR_BLOB_INVALID_HASH, naming the value) before any IO happens. A key is exactly 64
 * lowercase hex digits: uppercase is refused rather than normalised, so one blob has one name.
 */
import { FetchmlError } from '../core/errors.ts';
import { isSha256Hex } from '../core/hash.ts';

/** Throws ML_ERR_BLOB_INVALID_HASH unless `value` is a lowercase sha256 hex digest. */
export function assertBlobHash(value: unknown, field = 'sha256'): asserts value is string {
  if (isSha256Hex(value)) return;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
  throw new FetchmlError(
    'ML_ERR_BLOB_INVALID_HASH',
    `${field}: not a sha256 hex digest (64 lowercase hex digits): ${shown}`,
    { details: { field } },
  );
}

/** The error for a blob that is not stored. */
export function blobNotFound(sha256: string, cause?: unknown): FetchmlError {
  return new FetchmlError('ML_ERR_BLOB_NOT_FOUND', `blob not found: ${sha256}`, {
    cause,
    details: { sha256 },
  });
}

/** The error for content whose hash is not the one promised. */
export function blobHashMismatch(expected: string, actual: string, size: number): FetchmlError {
  return new FetchmlError(
    'ML_ERR_BLOB_HASH_MISMATCH',
    `content hash mismatch: expected ${expected}, got ${actual} (${size} bytes)`,
    { details: { expected, actual, size } },
  );
}
