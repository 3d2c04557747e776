/**
 * @module snapshot/diff
 * What changed between two tree manifests, by one merge over their sorted entries: what `ml
 * compare` and `ml reproduce --verify` show. A file is modified when its content, mode or type
 * changed; a symlink when its target did.
 */
import type { TreeEntry, TreeManifest } from '../core/schemas/tree.ts';
import { comparePaths } from './manifest.ts';

/** One path present in both trees with a different entry. */
export interface ModifiedEntry {
  path: string;
  before: TreeEntry;
  after: TreeEntry;
  /** sha256 before / after (null for a symlink side). */
  oldSha256: string | null;
  newSha256: string | null;
}

/** The result of {@link diffTrees}; every list is in path order. */
export interface TreeDiff {
  added: TreeEntry[];
  removed: TreeEntry[];
  modified: ModifiedEntry[];
  unchanged: number;
}

function same(a: TreeEntry, b: TreeEntry): boolean {
  if (a.type === 'file' && b.type === 'file')
    return a.sha256 === b.sha256 && a.mode === b.mode && a.size === b.size;
  if (a.type === 'symlink' && b.type === 'symlink') return a.target === b.target;
  return false;
}

const shaOf = (e: TreeEntry): string | null => (e.type === 'file' ? e.sha256 : null);

/** Compares tree `a` (before) with tree `b` (after). Both must be sorted, as manifests are. */
export function diffTrees(a: TreeManifest, b: TreeManifest): TreeDiff {
  const out: TreeDiff = { added: [], removed: [], modified: [], unchanged: 0 };
  let i = 0;
  let j = 0;
  while (i < a.entries.length || j < b.entries.length) {
    const x = a.entries[i];
    const y = b.entries[j];
    const c = !x ? 1 : !y ? -1 : comparePaths(x.path, y.path);
    if (c < 0) {
      out.removed.push(x as TreeEntry);
      i++;
    } else if (c > 0) {
      out.added.push(y as TreeEntry);
      j++;
    } else {
      const before = x as TreeEntry;
      const after = y as TreeEntry;
      if (same(before, after)) out.unchanged++;
      else
        out.modified.push({
          path: before.path,
          before,
          after,
          oldSha256: shaOf(before),
          newSha256: shaOf(after),
        });
      i++;
      j++;
    }
  }
  return out;
}
