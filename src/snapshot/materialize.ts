/**
 * @module snapshot/materialize
 * Writes a tree manifest out as files: the inverse of `snapshotTree`, used to stage a snapshot
 * for a run. Every path is validated again (schema + symlink resolution through the tree's own
 * links), the destination must be empty, files are created with `O_EXCL` and symlinks are made
 * last, so nothing is ever written through a link or outside `destDir`.
 *
 * Link modes: `hardlink` links each non-executable file to the blob store's file (needs
 * `capabilities.localFiles`; fails otherwise), `copy` copies, `auto` links where it can and copies
 * where it cannot (another filesystem, no local files). Executable files are always copied: a
 * hard link shares the blob's inode, so a chmod would change the stored blob. Consequence: a
 * hard-linked file has the blob's mode (read-only, 0444, in the fs store) — materialized trees are
 * read-only where hard-linked; copies get exactly 0644 or 0755. Copies streamed from the store are
 * re-hashed and checked; hard links and local copies trust the store, which verified on `put`.
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, link, mkdir, open, readdir, realpath, symlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, join, sep } from 'node:path';

import type { BlobStore } from '../blobs/types.ts';
import { FetchmlError, errors } from '../core/errors.ts';
import type { TreeEntry } from '../core/schemas/tree.ts';
import { TreeManifest } from '../core/schemas/tree.ts';
import { treeSymlinkProblems } from './manifest.ts';

/** How files reach the destination; see the module doc. */
export type LinkMode = 'hardlink' | 'copy' | 'auto';

/** Options of {@link materialize}. */
export interface MaterializeOptions {
  /** @default 'auto' */
  link?: LinkMode;
  /** Files written at once. @default 8 */
  concurrency?: number;
}

/** Counters of one materialize call. */
export interface MaterializeStats {
  files: number;
  symlinks: number;
  /** Files hard-linked to the blob store. */
  linked: number;
  /** Files copied (locally or streamed from the store). */
  copied: number;
  bytes: number;
  ms: number;
}

function hasCode(err: unknown, ...codes: string[]): boolean {
  return codes.includes((err as { code?: string }).code ?? '');
}

async function streamCopy(
  blobs: BlobStore,
  e: TreeEntry & { type: 'file' },
  abs: string,
): Promise<void> {
  const src = await blobs.get(e.sha256);
  const out = await open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of src as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      await out.write(chunk);
    }
  } finally {
    await out.close();
  }
  const actual = hash.digest('hex');
  if (actual !== e.sha256 || size !== e.size) {
    throw new FetchmlError(
      'ML_ERR_BLOB_HASH_MISMATCH',
      `blob ${e.sha256} for ${JSON.stringify(e.path)} read back as ${actual} (${size} bytes)`,
      { details: { path: e.path, sha256: e.sha256 } },
    );
  }
}

/**
 * Writes `manifest` into `destDir` (created if absent; must be empty) from `blobs`.
 *
 * @throws FetchmlError ML_ERR_PATH_HOSTILE for an invalid manifest path or an escaping symlink;
 *   ML_ERR_CONFLICT when `destDir` is not empty; ML_ERR_VALIDATION for `link: 'hardlink'` on a
 *   store without local files; ML_ERR_BLOB_NOT_FOUND / ML_ERR_BLOB_HASH_MISMATCH from the store.
 */
export async function materialize(
  manifest: TreeManifest,
  blobs: BlobStore,
  destDir: string,
  opts: MaterializeOptions = {},
): Promise<MaterializeStats> {
  const started = performance.now();
  const mode = opts.link ?? 'auto';
  const parsed = TreeManifest.safeParse(manifest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path ?? [];
    const entry = typeof at[1] === 'number' ? manifest.entries[at[1]] : undefined;
    throw errors.hostilePath(
      entry?.path ?? String(at.join('.')),
      issue?.message ?? 'invalid tree manifest',
    );
  }
  const escaping = treeSymlinkProblems(parsed.data.entries)[0];
  if (escaping) throw errors.hostilePath(escaping.path, escaping.reason);
  const localPath =
    blobs.capabilities.localFiles && blobs.localPath ? blobs.localPath.bind(blobs) : null;
  if (mode === 'hardlink' && !localPath) {
    throw new FetchmlError(
      'ML_ERR_VALIDATION',
      "link: 'hardlink' needs a blob store with local files; use 'auto' or 'copy'",
    );
  }

  await mkdir(destDir, { recursive: true });
  const base = await realpath(destDir);
  if ((await readdir(base)).length > 0) {
    throw new FetchmlError('ML_ERR_CONFLICT', `destination is not empty: ${destDir}`, {
      details: { path: destDir },
    });
  }
  const inside = (rel: string): string => {
    const abs = join(base, ...rel.split('/'));
    if (!abs.startsWith(base + sep))
      throw errors.hostilePath(rel, 'resolves outside the destination');
    return abs;
  };

  const dirs = new Set<string>();
  for (const e of parsed.data.entries) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const d of [...dirs].sort()) await mkdir(inside(d));

  const stats: MaterializeStats = { files: 0, symlinks: 0, linked: 0, copied: 0, bytes: 0, ms: 0 };
  const files = parsed.data.entries.filter(
    (e): e is TreeEntry & { type: 'file' } => e.type === 'file',
  );
  let next = 0;
  const one = async (e: TreeEntry & { type: 'file' }): Promise<void> => {
    const abs = inside(e.path);
    if (localPath && mode !== 'copy' && e.mode === 0o644) {
      try {
        await link(localPath(e.sha256), abs);
        stats.linked++;
        return;
      } catch (err) {
        if (hasCode(err, 'ENOENT')) throw errors.notFound('blob', e.sha256);
        if (
          mode === 'hardlink' ||
          !hasCode(err, 'EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP')
        )
          throw err;
      }
    }
    if (localPath) {
      try {
        await copyFile(localPath(e.sha256), abs, constants.COPYFILE_EXCL);
      } catch (err) {
        if (hasCode(err, 'ENOENT')) throw errors.notFound('blob', e.sha256);
        throw err;
      }
    } else {
      await streamCopy(blobs, e, abs);
    }
    await chmod(abs, e.mode);
    stats.copied++;
  };
  const runner = async (): Promise<void> => {
    while (next < files.length) {
      const e = files[next++] as TreeEntry & { type: 'file' };
      await one(e);
      stats.files++;
      stats.bytes += e.size;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, runner));

  for (const e of parsed.data.entries) {
    if (e.type !== 'symlink') continue;
    const abs = inside(e.path);
    if (!dirname(abs).startsWith(base))
      throw errors.hostilePath(e.path, 'resolves outside the destination');
    await symlink(e.target, abs);
    stats.symlinks++;
  }
  stats.ms = Math.round((performance.now() - started) * 10) / 10;
  return stats;
}
