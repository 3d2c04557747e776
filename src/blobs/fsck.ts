/**
 * @module blobs/fsck
 * Integrity check of a whole BlobStore: re-hash every blob and report those whose bytes no
 * longer match their name (disk corruption, or a job that wrote through a hard link before the
 * store made blobs read-only). Reports only; deciding what to do (re-upload, delete) is the
 * caller's. Needs a backend with `verify`.
 */
import { FetchmlError } from '../core/errors.ts';
import type { BlobStore, BlobVerifyResult } from './types.ts';

export interface FsckReport {
  /** Blobs checked. */
  checked: number;
  /** Bytes re-read. */
  bytes: number;
  /** Blobs whose content does not match their hash. */
  corrupt: BlobVerifyResult[];
}

/** Re-hashes every stored blob. Throws ML_ERR_INTERNAL if the backend has no `verify`. */
export async function fsckBlobs(
  blobs: BlobStore,
  onProgress?: (progress: { checked: number; corrupt: number }) => void,
): Promise<FsckReport> {
  if (!blobs.verify) {
    throw new FetchmlError('ML_ERR_INTERNAL', 'this blob store backend cannot verify blobs');
  }
  const report: FsckReport = { checked: 0, bytes: 0, corrupt: [] };
  for await (const sha256 of blobs.list()) {
    let result: BlobVerifyResult;
    try {
      result = await blobs.verify(sha256);
    } catch (err) {
      if (err instanceof FetchmlError && err.code === 'ML_ERR_BLOB_NOT_FOUND') continue; // deleted meanwhile
      throw err;
    }
    report.checked += 1;
    report.bytes += result.size;
    if (!result.ok) report.corrupt.push(result);
    onProgress?.({ checked: report.checked, corrupt: report.corrupt.length });
  }
  return report;
}
