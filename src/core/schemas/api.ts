/**
 * @module core/schemas/api
 * Request and response bodies of the HTTP API (`/v1`). The server validates every body with these;
 * the client uses the same types.
 */
import { z } from 'zod';

import { Resources, Sha256Hex } from './common.ts';
import { ExperimentSpec } from './spec.ts';
import { TaskStatus } from './task.ts';
import { TreeManifest } from './tree.ts';

export const ErrorBody = z.strictObject({
  error: z.strictObject({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** POST /v1/blobs/missing: which of these blobs does the server lack? (at most 10,000 per call) */
export const MissingBlobsRequest = z.strictObject({ hashes: z.array(Sha256Hex).max(10_000) });
export const MissingBlobsResponse = z.strictObject({ missing: z.array(Sha256Hex) });

/** POST /v1/commits: register a tree manifest whose blobs are all present. */
export const CreateCommitRequest = z.strictObject({ manifest: TreeManifest });
export const CreateCommitResponse = z.strictObject({
  commit_id: Sha256Hex,
  missing: z.array(Sha256Hex),
});

/** POST /v1/tasks: submit a commit with its spec. */
export const CreateTaskRequest = z.strictObject({
  commit_id: Sha256Hex,
  spec: ExperimentSpec,
  priority: z.number().int().min(-1000).max(1000).optional(),
  args: z.array(z.string()).max(1000).default([]),
  resources: Resources.partial().optional(),
  timeout_s: z.number().positive().optional(),
  max_attempts: z.number().int().min(1).max(100).optional(),
});
export type CreateTaskRequest = z.input<typeof CreateTaskRequest>;

/** GET /v1/tasks query. */
export const TaskListQuery = z.strictObject({
  status: z
    .union([TaskStatus, z.array(TaskStatus)])
    .transform((s) => (Array.isArray(s) ? s : [s]))
    .optional(),
  user: z.string().optional(),
  name: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});
export type TaskListQuery = z.input<typeof TaskListQuery>;
