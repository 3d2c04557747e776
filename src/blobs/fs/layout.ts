/**
 * @module blobs/fs/layout
 * Where things live under a filesystem blob store's root (DESIGN.md "Storage layout",
 * `data/objects/ab/cdef...`): a blob is `<root>/<first 2 hex>/<remaining 62 hex>`, the git-style
 * 256-way fan-out that keeps directories small enough to list and look up quickly. In-progress
 * writes live in `<root>/.tmp/` — inside the root so that the final rename never crosses a
 * filesystem (cross-device renames are not atomic) — and nothing else under the root is a blob.
 */
import { join } from 'node:path';

/** The directory of in-progress writes, relative to the root. Never a valid fan-out name. */
export const TEMP_DIR = '.tmp';

const FANOUT_DIR = /^[0-9a-f]{2}$/;
const FANOUT_FILE = /^[0-9a-f]{62}$/;

/** The fan-out directory name of a (validated) hash. */
export function fanoutOf(sha256: string): string {
  return sha256.slice(0, 2);
}

/** `<root>/ab/cdef…` for a (validated) hash. */
export function blobFilePath(root: string, sha256: string): string {
  return join(root, sha256.slice(0, 2), sha256.slice(2));
}

export function isFanoutDirName(name: string): boolean {
  return FANOUT_DIR.test(name);
}

export function isFanoutFileName(name: string): boolean {
  return FANOUT_FILE.test(name);
}
