/**
 * @module blobs/fs/errno
 * Tiny helpers for Node's errno-style errors, so the store can tell "absent" (ENOENT) from real IO
 * failures, which it never swallows.
 */

/** True when `err` is a Node system error with the given `code` (e.g. `ENOENT`). */
export function hasErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}
