/**
 * @module cli/data/upload
 * `ml data upload <dir|file> --name N`: the dataset's files become a tree manifest (a directory
 * is snapshotted like a project — `.gitignore`/`.mlignore` apply, symlinks inside it are kept; a
 * single file is a one-entry tree named by its base name), the server is asked which blobs it
 * lacks, only those are sent (with progress), and the tree is recorded as a version of N.
 *
 * Resumable by construction: blobs are content-addressed and stored as they arrive, so after an
 * interrupt (Ctrl-C, a dropped connection) running the same command again sends only what the
 * server still lacks. The stat cache lives under the ml config dir (never inside the dataset), so
 * a re-run does not re-hash unchanged files either.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import { FetchmlError } from '../../core/errors.ts';
import { canonicalSha256, sha256Hex } from '../../core/hash.ts';
import type { DatasetVersion } from '../../core/schemas/dataset.ts';
import type { TreeManifest } from '../../core/schemas/tree.ts';
import { clientConfigPath } from '../shared/client-config.ts';
import type { CliClient, CommandDeps } from '../shared/deps.ts';
import { createProgress, progressMode, startPhase } from '../shared/progress.ts';

/** A dataset name: letters, digits, `.`, `_`, `-` (as in fetchml.yaml). */
export const DATASET_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** What `ml data upload --json` prints. */
export interface UploadResult {
  dataset: DatasetVersion;
  /** False when the same content was already a version (nothing new recorded). */
  created: boolean;
  path: string;
  files: number;
  bytes: number;
  /** Blobs the server lacked and were sent by this run. */
  uploaded_blobs: number;
  uploaded_bytes: number;
  ms: number;
  warnings: { path: string; reason: string }[];
}

/** The files to upload: a tree manifest and the directory its paths are relative to. */
interface LocalTree {
  root: string;
  manifest: TreeManifest;
  warnings: { path: string; reason: string }[];
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Snapshots `path` (a directory or one file) into a tree manifest. */
async function localTree(deps: CommandDeps, path: string, json?: boolean): Promise<LocalTree> {
  const abs = resolve(deps.cwd, path);
  const st = await stat(abs).catch(() => null);
  if (!st) {
    throw new FetchmlError('ML_ERR_VALIDATION', `${path}: no such file or directory`, {
      details: { field: 'path', value: path },
    });
  }
  const phase = startPhase(deps.io.stderr, progressMode(deps.io.stderr, json), 'hashing', deps.now);
  try {
    if (st.isFile()) {
      const name = basename(abs);
      return {
        root: dirname(abs),
        manifest: {
          version: 1,
          entries: [
            {
              path: name,
              type: 'file',
              mode: st.mode & 0o111 ? 0o755 : 0o644,
              size: st.size,
              sha256: await sha256File(abs),
            },
          ],
        },
        warnings: [],
      };
    }
    if (!st.isDirectory()) {
      throw new FetchmlError('ML_ERR_VALIDATION', `${path}: not a file or a directory`, {
        details: { field: 'path', value: path },
      });
    }
    const real = await realpath(abs);
    const cacheDir = join(dirname(clientConfigPath(deps.io.env, deps.cwd)), 'statcache');
    const { snapshotTree } = await import('../../snapshot/index.ts');
    const snap = await snapshotTree(real, {
      statCache: join(cacheDir, `data-${sha256Hex(real).slice(0, 32)}`),
    });
    return { root: real, manifest: snap.manifest, warnings: snap.warnings };
  } finally {
    phase.done();
  }
}

/** Sends the blobs among `want` that `tree` holds, with progress; returns what was sent. */
async function sendBlobs(
  deps: CommandDeps,
  client: CliClient,
  tree: LocalTree,
  want: readonly string[],
  json?: boolean,
): Promise<{ blobs: number; bytes: number }> {
  if (want.length === 0) return { blobs: 0, bytes: 0 };
  const bySha = new Map<string, { path: string; size: number }>();
  for (const e of tree.manifest.entries) {
    if (e.type === 'file' && !bySha.has(e.sha256)) bySha.set(e.sha256, e);
  }
  const items = want.flatMap((sha256) => {
    const f = bySha.get(sha256);
    if (!f) return [];
    const abs = join(tree.root, ...f.path.split('/'));
    return [{ sha256, size: f.size, open: () => createReadStream(abs) }];
  });
  const total = { blobs: items.length, bytes: items.reduce((n, i) => n + i.size, 0) };
  const progress = createProgress(
    deps.io.stderr,
    progressMode(deps.io.stderr, json),
    total,
    deps.now,
  );
  try {
    return await client.uploadBlobs(items, (p) => progress.update(p));
  } finally {
    progress.done();
  }
}

/** Uploads `path` as a version of dataset `name` (see the module doc). */
export async function uploadDataset(
  deps: CommandDeps,
  client: CliClient,
  path: string,
  name: string,
  opts: { json?: boolean } = {},
): Promise<UploadResult> {
  if (!DATASET_NAME_RE.test(name)) {
    throw new FetchmlError(
      'ML_ERR_VALIDATION',
      `--name: ${JSON.stringify(name)}: letters, digits, . _ - only (max 128)`,
      { details: { field: 'name' } },
    );
  }
  const started = deps.now();
  const tree = await localTree(deps, path, opts.json);
  for (const w of tree.warnings) deps.io.stderr.write(`warning: ${w.path}: ${w.reason}\n`);
  const files = tree.manifest.entries.filter((e) => e.type === 'file');
  if (files.length === 0) {
    throw new FetchmlError(
      'ML_ERR_VALIDATION',
      `${path}: no files to upload (are they all ignored by .gitignore or .mlignore?)`,
      { details: { field: 'path', value: path } },
    );
  }
  let answer = await client.createDataset(name, tree.manifest);
  const sent = { blobs: 0, bytes: 0 };
  // Twice at most: the second time covers blobs garbage-collected between the two calls.
  for (let round = 0; round < 2 && answer.dataset === null; round++) {
    const got = await sendBlobs(deps, client, tree, answer.missing, opts.json);
    sent.blobs += got.blobs;
    sent.bytes += got.bytes;
    answer = await client.createDataset(name, tree.manifest);
  }
  if (answer.dataset === null) {
    throw new FetchmlError(
      'ML_ERR_UNAVAILABLE',
      `the server still lacks ${answer.missing.length} blobs of ${path} after uploading them; try again`,
      { details: { missing: answer.missing.length } },
    );
  }
  return {
    dataset: answer.dataset,
    created: answer.created,
    path: tree.root,
    files: files.length,
    bytes: files.reduce((n, e) => n + e.size, 0),
    uploaded_blobs: sent.blobs,
    uploaded_bytes: sent.bytes,
    ms: Math.round(deps.now() - started),
    warnings: tree.warnings,
  };
}

/** The checksum a local path would get as a dataset, without uploading (tests and previews). */
export async function localChecksum(deps: CommandDeps, path: string): Promise<string> {
  return `sha256:${canonicalSha256((await localTree(deps, path, true)).manifest)}`;
}
