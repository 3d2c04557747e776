/**
 * @module worker/artifacts
 * Collecting `output/` after a run: every regular file goes into the blob store and becomes an
 * artifact `{path, size, sha256}` (sorted by path). The run's metrics: ./metrics.ts.
 *
 * The output dir was writable by the job, so it is treated as hostile: symlinks are skipped and
 * never followed (a link to /etc/shadow must not be uploaded), as are sockets, fifos and devices,
 * and names that are not valid artifact paths; each skip becomes a warning in the manifest.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import type { BlobStore } from '../blobs/types.ts';
import { relativePathProblem } from '../core/paths.ts';
import type { Artifact } from '../core/schemas/manifest.ts';

/** What {@link collectArtifacts} found. */
export interface CollectedArtifacts {
  artifacts: Artifact[];
  /** One line per skipped entry. */
  warnings: string[];
  bytes: number;
}

/** Blob uploads at once. */
const PUT_CONCURRENCY = 4;

async function walk(root: string, rel: string, files: string[], warnings: string[]) {
  const entries = await readdir(join(root, rel), { withFileTypes: true });
  for (const entry of entries) {
    const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isSymbolicLink()) {
      warnings.push(`output/${path}: symlink skipped (artifacts never follow links)`);
    } else if (entry.isDirectory()) {
      await walk(root, path, files, warnings);
    } else if (!entry.isFile()) {
      warnings.push(`output/${path}: not a regular file, skipped`);
    } else {
      const problem = relativePathProblem(path);
      if (problem) warnings.push(`output/${JSON.stringify(path)}: ${problem}, skipped`);
      else files.push(path);
    }
  }
}

/**
 * Stores every regular file under `outputDir` in `blobs`.
 * @returns artifacts sorted by path (code-unit order), warnings for what was skipped.
 */
export async function collectArtifacts(
  outputDir: string,
  blobs: BlobStore,
): Promise<CollectedArtifacts> {
  const files: string[] = [];
  const warnings: string[] = [];
  const exists = await lstat(outputDir).catch(() => null);
  if (!exists?.isDirectory()) return { artifacts: [], warnings, bytes: 0 };
  await walk(outputDir, '', files, warnings);
  files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const artifacts: Artifact[] = new Array<Artifact>(files.length);
  let next = 0;
  const lane = async () => {
    while (next < files.length) {
      const i = next++;
      const path = files[i] as string;
      const stat = await blobs.put(createReadStream(join(outputDir, path)));
      artifacts[i] = { path, size: stat.size, sha256: stat.sha256 };
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUT_CONCURRENCY, files.length) }, lane));
  return { artifacts, warnings, bytes: artifacts.reduce((n, a) => n + a.size, 0) };
}
