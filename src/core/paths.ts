/**
 * @module core/paths
 * Validation of the relative paths that travel in tree manifests, artifact lists and API calls.
 * A valid path is POSIX, relative, non-empty, has no empty, `.` or `..` segment, no NUL and no
 * trailing slash. Anything else is refused with ML_ERR_PATH_HOSTILE naming the path.
 */
import { posix } from 'node:path';

import { errors } from './errors.ts';

/** Why `path` is not a safe relative path, or `null` when it is. */
export function relativePathProblem(path: string): string | null {
  if (typeof path !== 'string' || path.length === 0) return 'empty path';
  if (path.includes('\0')) return 'contains a NUL byte';
  if (path.startsWith('/')) return 'absolute path';
  if (path.length > 4096) return 'longer than 4096 bytes';
  for (const segment of path.split('/')) {
    if (segment === '') return 'empty segment (double or trailing slash)';
    if (segment === '.') return "contains a '.' segment";
    if (segment === '..') return "contains a '..' segment";
  }
  return null;
}

/** Throws ML_ERR_PATH_HOSTILE unless `path` is a safe relative POSIX path. */
export function assertRelativePath(path: string): string {
  const problem = relativePathProblem(path);
  if (problem) throw errors.hostilePath(path, problem);
  return path;
}

/**
 * Why a symlink at `linkPath` with `target` would point outside its tree, or `null` when it stays
 * inside. Absolute targets are always outside.
 */
export function symlinkTargetProblem(linkPath: string, target: string): string | null {
  if (target.length === 0) return 'empty symlink target';
  if (target.includes('\0')) return 'symlink target contains a NUL byte';
  if (target.startsWith('/')) return `symlink points to an absolute path (${target})`;
  const resolved = posix.normalize(posix.join(posix.dirname(linkPath), target));
  if (resolved === '..' || resolved.startsWith('../')) {
    return `symlink points outside the tree (${target})`;
  }
  return null;
}
