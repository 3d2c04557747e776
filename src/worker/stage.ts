/**
 * @module worker/stage
 * Staging one attempt: the commit's files into `<workDir>/<task-id>-<attempt>/src`, a fresh
 * `output/` under the task dir, and each dataset of the plan into `<stage>/data/<name>`.
 *
 * The snapshot is read-only input. Under a runtime that isolates the filesystem, `src` is
 * mounted read-only, so files are hard-linked to the blob store (no copy, staging in
 * milliseconds). Under the `process` runtime the job could write through a hard link into the
 * stored blob (root ignores the 0444 mode), corrupting every later run of that content, so files
 * are copied there.
 *
 * Datasets: each is resolved in the catalog again (data/catalog: the pinned checksum, or the latest
 * version when the relaxed policy left it out), materialized the same way (hard links where the
 * runtime mounts it read-only, copies under `process`), and then every file is re-hashed from the
 * staged path before the job starts. A blob that is missing fails the task with
 * ML_ERR_DATASET_UNAVAILABLE, one whose bytes changed with ML_ERR_DATASET_CORRUPT; both name the
 * dataset and the file. The runtimes expose them read-only at `$FETCHML_DATA/<name>`
 * (`/work/data/<name>` in the sandbox and containers).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { BlobStore } from '../blobs/types.ts';
import { FetchmlError, isFetchmlError } from '../core/errors.ts';
import { taskFiles } from '../core/layout.ts';
import type { Plan } from '../core/schemas/task.ts';
import type { DatasetVersion } from '../core/schemas/dataset.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';
import { resolveDataset } from '../data/catalog.ts';
import type { LinkMode, MaterializeStats } from '../snapshot/index.ts';
import { materialize } from '../snapshot/index.ts';
import type { MetadataStore } from '../store/types.ts';

/** Where one attempt's files are. */
export interface StagedDirs {
  /** `<workDir>/<task-id>-<attempt>`: removed after the attempt. */
  stageDir: string;
  /** The materialized snapshot (the job's cwd). */
  srcDir: string;
  /** `<home>/experiments/<task-id>/output`, empty at the start of the attempt. */
  outputDir: string;
}

/** The dirs of an attempt (pure: nothing is created). */
export function stagedDirs(
  home: string,
  workRoot: string,
  taskId: string,
  attempt: number,
): StagedDirs {
  const stageDir = join(workRoot, `${taskId}-${attempt}`);
  return {
    stageDir,
    srcDir: join(stageDir, 'src'),
    outputDir: join(taskFiles(home).dir(taskId), 'output'),
  };
}

/** Inputs of {@link stageAttempt}. */
export interface StageInput {
  dirs: StagedDirs;
  plan: Plan;
  manifest: TreeManifest | null;
  blobs: BlobStore;
  /** `auto`: hard links where possible; `copy` for runtimes without filesystem isolation. */
  link: LinkMode;
  /** The dataset catalog and the trees it names (needed when the plan has datasets). */
  catalog?: Pick<MetadataStore, 'getDatasetVersion' | 'findDatasetVersion' | 'getCommit'>;
}

/** A dataset staged and verified for the job. */
export interface StagedDataset {
  name: string;
  /** The checksum staged (the pinned one, or the latest version's under the relaxed policy). */
  checksum: string;
  version: number;
  /** Where it is on the host (the runtime mounts it read-only). */
  hostPath: string;
  files: number;
  bytes: number;
}

/** What {@link stageAttempt} staged. */
export interface StageStats extends MaterializeStats {
  datasets: StagedDataset[];
}

/**
 * Creates the attempt's dirs, materializes the snapshot and stages every dataset (verified).
 * Leftovers of an earlier attempt (or a crashed run of this one) are removed first.
 * @throws FetchmlError ML_ERR_COMMIT_NOT_FOUND; ML_ERR_DATASET_UNAVAILABLE (not in the catalog, or a
 *   blob missing) / ML_ERR_DATASET_CORRUPT (a file's bytes changed), naming dataset and file; or
 *   ML_ERR_STAGING_FAILED wrapping the cause (missing blob, disk full, ...).
 */
export async function stageAttempt(input: StageInput): Promise<StageStats> {
  const { dirs, plan } = input;
  if (!input.manifest) {
    throw new FetchmlError('ML_ERR_COMMIT_NOT_FOUND', `no such commit: ${plan.commit_id}`, {
      details: { commit_id: plan.commit_id },
    });
  }
  let stats: MaterializeStats;
  try {
    await rm(dirs.stageDir, { recursive: true, force: true });
    await rm(dirs.outputDir, { recursive: true, force: true });
    await mkdir(dirs.outputDir, { recursive: true });
    stats = await materialize(input.manifest, input.blobs, dirs.srcDir, { link: input.link });
  } catch (err) {
    if (isFetchmlError(err, 'ML_ERR_PATH_HOSTILE')) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new FetchmlError('ML_ERR_STAGING_FAILED', `staging failed: ${message}`, { cause: err });
  }
  const datasets: StagedDataset[] = [];
  for (const ref of plan.datasets) {
    datasets.push(await stageDataset(input, ref, join(dirs.stageDir, 'data', ref.name)));
  }
  return { ...stats, datasets };
}

function unavailable(name: string, message: string, cause?: unknown): FetchmlError {
  return new FetchmlError('ML_ERR_DATASET_UNAVAILABLE', `dataset ${name}: ${message}`, {
    cause,
    details: { dataset: name },
  });
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Resolves, materializes and re-hashes one dataset into `dest` (see the module doc). */
async function stageDataset(
  input: StageInput,
  ref: Plan['datasets'][number],
  dest: string,
): Promise<StagedDataset> {
  const { catalog, blobs } = input;
  if (!catalog) throw unavailable(ref.name, 'this worker has no dataset catalog');
  let version: DatasetVersion;
  try {
    version = await resolveDataset(catalog, ref);
  } catch (err) {
    if (!isFetchmlError(err, 'ML_ERR_DATASET_NOT_FOUND')) throw err;
    throw new FetchmlError('ML_ERR_DATASET_UNAVAILABLE', err.message, {
      cause: err,
      details: { dataset: ref.name },
    });
  }
  const tree = await catalog.getCommit(version.tree_id);
  if (!tree) throw unavailable(ref.name, `its file list (tree ${version.tree_id}) is missing`);
  const pathOf = (sha256: unknown) =>
    tree.entries.find((e) => e.type === 'file' && e.sha256 === sha256)?.path ?? String(sha256);
  try {
    await materialize(tree, blobs, dest, { link: input.link });
  } catch (err) {
    if (isFetchmlError(err, 'ML_ERR_PATH_HOSTILE')) throw err;
    if (isFetchmlError(err, 'ML_ERR_NOT_FOUND') || isFetchmlError(err, 'ML_ERR_BLOB_NOT_FOUND')) {
      const sha = err.details?.['id'] ?? err.details?.['sha256'];
      throw unavailable(
        ref.name,
        `file ${pathOf(sha)}: blob ${String(sha)} is missing from the blob store (upload the data again: ml data upload <dir> --name ${ref.name})`,
        err,
      );
    }
    if (isFetchmlError(err, 'ML_ERR_BLOB_HASH_MISMATCH')) {
      const path = err.details?.['path'];
      throw corrupt(ref.name, typeof path === 'string' ? path : '?', err.message, err);
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new FetchmlError(
      'ML_ERR_STAGING_FAILED',
      `staging dataset ${ref.name} failed: ${message}`,
      {
        cause: err,
        details: { dataset: ref.name },
      },
    );
  }
  let files = 0;
  let bytes = 0;
  for (const e of tree.entries) {
    if (e.type !== 'file') continue;
    const actual = await sha256Of(join(dest, ...e.path.split('/')));
    if (actual !== e.sha256) {
      throw corrupt(
        ref.name,
        e.path,
        `its bytes hash to ${actual}, the dataset records ${e.sha256} (ml data verify ${ref.name} checks every file)`,
      );
    }
    files++;
    bytes += e.size;
  }
  return {
    name: ref.name,
    checksum: version.checksum,
    version: version.version,
    hostPath: dest,
    files,
    bytes,
  };
}

function corrupt(name: string, path: string, why: string, cause?: unknown): FetchmlError {
  return new FetchmlError('ML_ERR_DATASET_CORRUPT', `dataset ${name}: file ${path}: ${why}`, {
    cause,
    details: { dataset: name, path },
  });
}

/** Removes the attempt's staging dir (best-effort). */
export async function cleanStage(dirs: StagedDirs): Promise<void> {
  await rm(dirs.stageDir, { recursive: true, force: true }).catch(() => undefined);
}
