/**
 * @module core/schemas/tree
 * Tree manifests: what a snapshot of a working tree is. Entries are sorted by path (byte order);
 * the commit id is the sha256 of the manifest's canonical JSON.
 */
import { z } from 'zod';

import { LIMITS } from '../limits.ts';
import { symlinkTargetProblem } from '../paths.ts';
import { RelativePath, Sha256Hex } from './common.ts';

export const FileEntry = z.strictObject({
  path: RelativePath,
  type: z.literal('file'),
  /** 0o755 when any execute bit was set, otherwise 0o644: permissions beyond that are not kept. */
  mode: z.union([z.literal(0o644), z.literal(0o755)]),
  size: z.number().int().min(0),
  sha256: Sha256Hex,
});
export type FileEntry = z.infer<typeof FileEntry>;

export const SymlinkEntry = z.strictObject({
  path: RelativePath,
  type: z.literal('symlink'),
  target: z.string().min(1).max(LIMITS.path),
});
export type SymlinkEntry = z.infer<typeof SymlinkEntry>;

export const TreeEntry = z.discriminatedUnion('type', [FileEntry, SymlinkEntry]);
export type TreeEntry = z.infer<typeof TreeEntry>;

export const TreeManifest = z
  .strictObject({
    version: z.literal(1),
    entries: z.array(TreeEntry).max(LIMITS.treeEntries),
  })
  .superRefine((tree, ctx) => {
    let prev: string | null = null;
    const files = new Set<string>();
    tree.entries.forEach((entry, i) => {
      if (prev !== null && Buffer.compare(Buffer.from(prev), Buffer.from(entry.path)) >= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['entries', i, 'path'],
          message: `entries must be sorted and unique (${JSON.stringify(entry.path)} after ${JSON.stringify(prev)})`,
        });
      }
      prev = entry.path;
      files.add(entry.path);
      if (entry.type === 'symlink') {
        const problem = symlinkTargetProblem(entry.path, entry.target);
        if (problem) {
          ctx.addIssue({ code: 'custom', path: ['entries', i, 'target'], message: problem });
        }
      }
    });
    // A path may not be both a file and a directory of another entry.
    for (const [i, entry] of tree.entries.entries()) {
      const parts = entry.path.split('/');
      for (let d = 1; d < parts.length; d++) {
        const dir = parts.slice(0, d).join('/');
        if (files.has(dir)) {
          ctx.addIssue({
            code: 'custom',
            path: ['entries', i, 'path'],
            message: `${JSON.stringify(entry.path)} lies under ${JSON.stringify(dir)}, which is not a directory`,
          });
          break;
        }
      }
    }
  });
export type TreeManifest = z.infer<typeof TreeManifest>;
