/**
 * @module worker/stage
 * Staging one attempt: the commit's files into `<workDir>/<task-id>-<attempt>/src`, a fresh
 * `output/` under the task dir, and the datasets (not yet: see below).
 *
 * The snapshot is read-only input. Under a runtime that isolates the filesystem, `src` is
 * mounted read-only, so files are hard-linked to the blob store (no copy, staging in
 * milliseconds). Under the `process` runtime the job could write through a hard link into the
 * stored blob (root ignores the 0444 mode), corrupting every later run of that content, so files
 * are copied there.
 *
 * Datasets: the dataset manager does not exist yet. A plan that names datasets fails with
 * ML_ERR_DATASET_UNAVAILABLE instead of running without its inputs.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { BlobStore } from '../blobs/types.ts';
import { FetchmlError, isFetchmlError } from '../core/errors.ts';
import { taskFiles } from '../core/layout.ts';
import type { Plan } from '../core/schemas/task.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';
import type { LinkMode, MaterializeStats } from '../snapshot/index.ts';
import { materialize } from '../snapshot/index.ts';

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
}

/**
 * Creates the attempt's dirs and materializes the snapshot. Leftovers of an earlier attempt (or a
 * crashed run of this one) are removed first.
 * @throws FetchmlError ML_ERR_COMMIT_NOT_FOUND, ML_ERR_DATASET_UNAVAILABLE, or
 *   ML_ERR_STAGING_FAILED wrapping the cause (missing blob, disk full, ...).
 */
export async function stageAttempt(input: StageInput): Promise<MaterializeStats> {
  const { dirs, plan } = input;
  if (plan.datasets.length > 0) {
    const names = plan.datasets.map((d) => d.name).join(', ');
    throw new FetchmlError(
      'ML_ERR_DATASET_UNAVAILABLE',
      `datasets cannot be staged yet (no dataset manager on this worker): ${names}`,
      { details: { datasets: plan.datasets.map((d) => d.name) } },
    );
  }
  if (!input.manifest) {
    throw new FetchmlError('ML_ERR_COMMIT_NOT_FOUND', `no such commit: ${plan.commit_id}`, {
      details: { commit_id: plan.commit_id },
    });
  }
  try {
    await rm(dirs.stageDir, { recursive: true, force: true });
    await rm(dirs.outputDir, { recursive: true, force: true });
    await mkdir(dirs.outputDir, { recursive: true });
    return await materialize(input.manifest, input.blobs, dirs.srcDir, { link: input.link });
  } catch (err) {
    if (isFetchmlError(err, 'ML_ERR_PATH_HOSTILE')) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new FetchmlError('ML_ERR_STAGING_FAILED', `staging failed: ${message}`, { cause: err });
  }
}

/** Removes the attempt's staging dir (best-effort). */
export async function cleanStage(dirs: StagedDirs): Promise<void> {
  await rm(dirs.stageDir, { recursive: true, force: true }).catch(() => undefined);
}
