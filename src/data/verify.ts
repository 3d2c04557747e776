/**
 * @module data/verify
 * Re-hashing what a tree manifest records, blob by blob, on the side that holds the blobs (the
 * server): `ml data verify` for a dataset and `ml reproduce --verify` for a task's snapshot, its
 * datasets and its artifacts. A blob is read back in full and hashed (BlobStore.verify when the
 * backend has it), so an edited, truncated or missing blob file is named by the path it stands for.
 */
import { createHash } from 'node:crypto';

import type { BlobStore } from '../blobs/types.ts';
import { isFetchmlError } from '../core/errors.ts';
import type { IntegrityItem } from '../core/schemas/dataset.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';

/** What one blob re-hash found. */
export interface BlobCheck {
  ok: boolean;
  /** What is wrong (set when not ok). */
  problem?: string;
  size: number;
}

/** Re-reads blob `sha256` and checks it still hashes to its name (and has `size` bytes). */
export async function checkBlob(
  blobs: BlobStore,
  sha256: string,
  size: number | null,
): Promise<BlobCheck> {
  try {
    let actual: string;
    let got: number;
    if (blobs.verify) {
      const r = await blobs.verify(sha256);
      actual = r.actual;
      got = r.size;
    } else {
      const hash = createHash('sha256');
      got = 0;
      for await (const chunk of (await blobs.get(sha256)) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        got += chunk.length;
      }
      actual = hash.digest('hex');
    }
    if (actual !== sha256) {
      return {
        ok: false,
        problem: `content changed: the stored bytes hash to ${actual}, not ${sha256}`,
        size: got,
      };
    }
    if (size !== null && got !== size) {
      return { ok: false, problem: `stored ${got} bytes, the record says ${size}`, size: got };
    }
    return { ok: true, size: got };
  } catch (err) {
    if (isFetchmlError(err, 'ML_ERR_BLOB_NOT_FOUND')) {
      return { ok: false, problem: `blob ${sha256} is missing from the store`, size: 0 };
    }
    throw err;
  }
}

/** The outcome of {@link verifyTreeBlobs}. */
export interface TreeCheck {
  /** Failing files only. */
  problems: IntegrityItem[];
  files: number;
  bytes: number;
}

/**
 * Re-hashes every file blob of `tree`; a failing one becomes an item named `${label} file <path>`
 * (kind `file`). A blob shared by several paths is read once and reported for each.
 */
export async function verifyTreeBlobs(
  blobs: BlobStore,
  tree: TreeManifest,
  label: string,
): Promise<TreeCheck> {
  const done = new Map<string, BlobCheck>();
  const out: TreeCheck = { problems: [], files: 0, bytes: 0 };
  for (const e of tree.entries) {
    if (e.type !== 'file') continue;
    let check = done.get(e.sha256);
    if (!check) {
      check = await checkBlob(blobs, e.sha256, e.size);
      done.set(e.sha256, check);
      out.bytes += check.size;
    }
    out.files++;
    if (!check.ok) {
      out.problems.push({
        kind: 'file',
        name: `${label} file ${e.path}`,
        ok: false,
        problem: check.problem ?? 'does not match',
      });
    }
  }
  return out;
}
