/**
 * @module snapshot/retry
 * What happens when a file does not hold still: the pool's answer for a file is used only when
 * the file matched the walk's stat data while it was read; otherwise the file is re-stat'ed and
 * hashed again here, up to {@link MAX_ATTEMPTS} times, then refused with ML_ERR_CONFLICT. A file
 * deleted meanwhile is reported as gone (null) so the snapshot can leave it out.
 */
import { lstatSync } from 'node:fs';

import { FetchmlError } from '../core/errors.ts';
import type { HashedFile } from './hash-file.ts';
import { hashFileSync } from './hash-file.ts';
import type { HashOutcome } from './pool.ts';
import { statKey } from './statcache.ts';
import type { WalkedFile } from './walk.ts';

const MAX_ATTEMPTS = 3;
type FileRec = WalkedFile;

function hashError(path: string, out: { error: string; code?: string }): FetchmlError {
  return new FetchmlError(
    'ML_ERR_VALIDATION',
    `cannot read ${JSON.stringify(path)} (${out.code ?? out.error}); fix its permissions or add it to .mlignore`,
    { details: { path } },
  );
}

/** Re-reads the stat data of `f` after it changed under the hasher. False: no longer a file. */
function restat(f: FileRec): boolean {
  let st;
  try {
    st = lstatSync(f.abs);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return false;
    throw err;
  }
  if (!st.isFile()) return false;
  f.size = st.size;
  f.mtimeMs = st.mtimeMs;
  f.ctimeMs = st.ctimeMs;
  f.ino = st.ino;
  f.dev = st.dev;
  f.mode = (st.mode & 0o111) !== 0 ? 0o755 : 0o644;
  return true;
}

/**
 * The hash of `f`: the pool's outcome when it is good, else hashed here, re-stat'ing and retrying
 * while the file changes under us. Null when the file was deleted meanwhile.
 */
export function hashWithRetries(
  f: FileRec,
  first: HashOutcome | undefined,
  buf: Buffer,
): HashedFile | null {
  let out = first;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (out === undefined) {
      try {
        out = hashFileSync(f.abs, f.size, statKey(f), buf);
      } catch (err) {
        const e = err as { code?: string; message?: string };
        out = { error: e.message ?? String(err), code: e.code ?? 'error' };
      }
    }
    if ('error' in out) {
      if (out.code === 'ENOENT') return null;
      if (out.code !== 'ELOOP' && out.code !== 'EISDIR') throw hashError(f.path, out);
    } else if (!out.changed) {
      return out;
    }
    // Changed or replaced while it was read: look again.
    if (!restat(f)) return null;
    out = undefined;
  }
  throw new FetchmlError(
    'ML_ERR_CONFLICT',
    `${JSON.stringify(f.path)} kept changing while it was snapshotted; stop what writes it, or add it to .mlignore`,
    { details: { path: f.path } },
  );
}
