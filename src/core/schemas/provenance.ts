/**
 * @module core/schemas/provenance
 * API bodies of the provenance routes: re-checking every hash a task recorded
 * (`POST /v1/tasks/:id/verify`, used by `ml reproduce --verify`) and importing an exported task
 * (`POST /v1/imports`, used by `ml import`).
 */
import { z } from 'zod';

import { IntegrityItem } from './dataset.ts';
import { Sha256Hex } from './common.ts';
import { RunManifest } from './manifest.ts';
import { Task } from './task.ts';

/** POST /v1/tasks/:id/verify: every recorded hash, re-checked on the server. */
export const TaskVerifyResponse = z.strictObject({
  task_id: z.string(),
  ok: z.boolean(),
  checked_files: z.number().int().min(0),
  checked_bytes: z.number().int().min(0),
  /** Every item checked, failing ones with a `problem`. */
  items: z.array(IntegrityItem),
});
export type TaskVerifyResponse = z.infer<typeof TaskVerifyResponse>;

/** The label every imported task carries (besides its own). */
export const IMPORTED_LABEL = 'imported';

/**
 * POST /v1/imports: an exported task, after its blobs (snapshot files, artifacts, log) were
 * uploaded and its snapshot registered as a commit.
 */
export const ImportTaskRequest = z.strictObject({
  task: Task,
  run_manifest: RunManifest,
  /** The log's blob, or null when the export had no log. */
  log_sha256: Sha256Hex.nullable(),
  /** sha256 of the archive's checksums file: names the export this import came from. */
  export_sha256: Sha256Hex,
});
export type ImportTaskRequest = z.infer<typeof ImportTaskRequest>;

export const ImportTaskResponse = z.strictObject({
  task: Task,
  /** False when the same export had been imported already (nothing changed). */
  created: z.boolean(),
});
export type ImportTaskResponse = z.infer<typeof ImportTaskResponse>;
