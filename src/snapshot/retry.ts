/**
 * @module snapshot/retry
 * What happens when a file does not hold still: a hash is used only when the file's stat data was
 * the same before and after it was read (see ./hash-file.ts); otherwise the file is hashed again
 * here, up to {@link MAX_ATTEMPTS} times, then refused with ML_ERR_CONFLICT. A file deleted (or
 * replaced by something that is not a regular file) meanwhile is reported as gone (null) so the
 * snapshot can leave it out.
 */
import { FetchmlError } from '../core/errors.ts';
import type { HashedPath } from './hash-file.ts';
import { hashPathSync } from './hash-file.ts';

const MAX_ATTEMPTS = 3;

function hashError(path: string, err: unknown): FetchmlError {
  const e = err as { code?: string; message?: string };
  return new FetchmlError(
    'ML_ERR_VALIDATION',
    `cannot read ${JSON.stringify(path)} (${e.code ?? e.message ?? String(err)}); fix its permissions or add it to .mlignore`,
    { cause: err, details: { path } },
  );
}

/**
 * The hash of the file `path` (at `abs`) with the stat data it belongs to, hashing again while
 * the file changes under us. Null when the file was deleted meanwhile.
 */
export function hashWithRetries(path: string, abs: string, buf: Buffer): HashedPath | null {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let out: HashedPath | null;
    try {
      out = hashPathSync(abs, buf);
    } catch (err) {
      throw hashError(path, err);
    }
    if (out === null || !out.changed) return out;
  }
  throw new FetchmlError(
    'ML_ERR_CONFLICT',
    `${JSON.stringify(path)} kept changing while it was snapshotted; stop what writes it, or add it to .mlignore`,
    { details: { path } },
  );
}
