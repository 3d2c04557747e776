/**
 * @module core/schemas/api
 * Request and response bodies of the HTTP API (`/v1`). The server validates every body with these;
 * the client uses the same types.
 */
import { z } from 'zod';

import { LIMITS } from '../limits.ts';
import { Resources, Sha256Hex } from './common.ts';
import { Artifact } from './manifest.ts';
import { ExperimentSpec } from './spec.ts';
import { Plan, ReproPolicy, Task, TaskStatus, TrustLevel } from './task.ts';
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
export const MissingBlobsRequest = z.strictObject({
  hashes: z.array(Sha256Hex).max(LIMITS.missingHashes),
});
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
  args: z.array(z.string().max(LIMITS.longString)).max(LIMITS.argv).default([]),
  resources: Resources.partial().optional(),
  timeout_s: z.number().positive().optional(),
  max_attempts: z.number().int().min(1).max(100).optional(),
  /** Overrides the spec's `repro_policy` (`ml queue --repro-policy relaxed`). */
  repro_policy: ReproPolicy.optional(),
});
export type CreateTaskRequest = z.input<typeof CreateTaskRequest>;

/**
 * POST /v1/plan: resolve a submission's plan and preflight without queueing (`ml explain`,
 * `ml validate`). Name a stored commit, or send the tree manifest itself (nothing is uploaded or
 * stored; the commit id is its digest, as `ml sync` would make it).
 */
export const PlanRequest = z
  .strictObject({
    commit_id: Sha256Hex.optional(),
    manifest: TreeManifest.optional(),
    spec: ExperimentSpec,
    args: z.array(z.string().max(LIMITS.longString)).max(LIMITS.argv).default([]),
    resources: Resources.partial().optional(),
    timeout_s: z.number().positive().optional(),
    repro_policy: ReproPolicy.optional(),
  })
  .refine((r) => (r.commit_id === undefined) !== (r.manifest === undefined), {
    message: 'give exactly one of commit_id or manifest',
  });
export type PlanRequest = z.input<typeof PlanRequest>;

/** One preflight check as core/plan PreflightCheck describes it. */
export const PlanCheck = z.strictObject({
  name: z.string(),
  ok: z.boolean(),
  blocking: z.boolean(),
  message: z.string().optional(),
  note: z.string().optional(),
});

/** POST /v1/plan answer: what `POST /v1/tasks` would record, and whether it would be blocked. */
export const PlanResponse = z.strictObject({
  commit_id: Sha256Hex,
  /** Whether the server holds this commit (false: `ml queue` would upload it first). */
  commit_stored: z.boolean(),
  plan: Plan,
  plan_sha256: Sha256Hex,
  trust_level: TrustLevel,
  checks: z.array(PlanCheck),
  /** The failing blocking checks under the strict policy; empty: it would be queued. */
  blocked_by: z.array(z.string()),
  /** The tag a warmed image would have (`localhost/fetchml-warm:…`); null without image or deps. */
  warmed_candidate: z.string().nullable(),
  /** Whether that warmed image exists on a worker (none are built yet: always false). */
  warmed_exists: z.boolean(),
});
export type PlanResponse = z.infer<typeof PlanResponse>;

/** GET /v1/tasks query. */
export const TaskListQuery = z.strictObject({
  status: z
    .union([TaskStatus, z.array(TaskStatus).max(LIMITS.statusFilter)])
    .transform((s) => (Array.isArray(s) ? s : [s]))
    .optional(),
  user: z.string().max(LIMITS.shortString).optional(),
  name: z.string().max(LIMITS.shortString).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  /** Cursor: only tasks older than this task id (the last id of the previous page). */
  before: z.string().max(LIMITS.taskId).optional(),
});
export type TaskListQuery = z.input<typeof TaskListQuery>;

/** GET /healthz (no auth). */
export const HealthResponse = z.strictObject({ ok: z.literal(true), version: z.string() });
export type HealthResponse = z.infer<typeof HealthResponse>;

/** PUT /v1/blobs/:sha256 and POST /v1/blobs/batch: what was stored (each verified). */
export const PutBlobResponse = z.strictObject({ sha256: Sha256Hex, size: z.number().int().min(0) });
export type PutBlobResponse = z.infer<typeof PutBlobResponse>;
export const BlobBatchResponse = z.strictObject({
  stored: z.array(PutBlobResponse),
  bytes: z.number().int().min(0),
});
export type BlobBatchResponse = z.infer<typeof BlobBatchResponse>;

/** GET /v1/tasks. */
export const TaskListResponse = z.strictObject({ tasks: z.array(Task) });
export type TaskListResponse = z.infer<typeof TaskListResponse>;

/** POST /v1/tasks/:id/priority: the new priority of a queued task (the range `ml queue` takes). */
export const SetPriorityRequest = z.strictObject({
  priority: z.number().int().min(-1000).max(1000),
});
export type SetPriorityRequest = z.infer<typeof SetPriorityRequest>;

/** POST /v1/tasks/:id/priority answer: the priority before and after, and the task as stored. */
export const SetPriorityResponse = z.strictObject({
  task_id: z.string(),
  previous: z.number().int(),
  priority: z.number().int(),
  task: Task,
});
export type SetPriorityResponse = z.infer<typeof SetPriorityResponse>;

/** POST /v1/tasks/:id/cancel. `removed`: it was queued and is now cancelled; `signalled`: the
 * worker running it was told to stop; `already_finished`: nothing to do. */
export const CancelTaskResponse = z.strictObject({
  task_id: z.string(),
  outcome: z.enum(['removed', 'signalled', 'already_finished']),
  task: Task,
});
export type CancelTaskResponse = z.infer<typeof CancelTaskResponse>;

/**
 * The fields of a worker every client may rely on (`GET /v1/status` sends a
 * {@link WorkerView}: these and more).
 */
export const WorkerSummary = z.looseObject({
  id: z.string(),
  host: z.string(),
  runtime: z.string(),
  status: z.string(),
  last_seen_at: z.string(),
  resources: Resources,
  labels: z.array(z.string()),
  version: z.string(),
});
export type WorkerSummary = z.infer<typeof WorkerSummary>;

/** GET /v1/status: everything `ml status` shows, in one request (core/schemas/status). */
export { StatusQuery, StatusResponse, WorkerView } from './status.ts';

/** GET /v1/tasks/:id/logs query: a byte range of the task's log file. */
export const LogRangeQuery = z.strictObject({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(4 * 1024 * 1024)
    .default(256 * 1024),
});
export type LogRangeQuery = z.input<typeof LogRangeQuery>;

/**
 * GET /v1/tasks/:id/logs response. `next_offset` is where the next read starts (a range never
 * ends inside a UTF-8 character); `eof`: the range reached the end of the file as it is now;
 * `finished`: `eof` and the task is terminal, so no more bytes will come.
 */
export const LogRangeResponse = z.strictObject({
  task_id: z.string(),
  status: TaskStatus,
  offset: z.number().int().min(0),
  next_offset: z.number().int().min(0),
  size: z.number().int().min(0),
  text: z.string(),
  eof: z.boolean(),
  finished: z.boolean(),
});
export type LogRangeResponse = z.infer<typeof LogRangeResponse>;

/** GET /v1/tasks/:id/artifacts: the artifact list of the task's run manifest. */
export const ArtifactListResponse = z.strictObject({
  task_id: z.string(),
  artifacts: z.array(Artifact),
});
export type ArtifactListResponse = z.infer<typeof ArtifactListResponse>;

/**
 * WebSocket `/v1/ws`, client → server. `auth` is needed only when the upgrade request carried no
 * `Authorization` header, and must then be the first message.
 */
export const WsClientMessage = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('auth'), api_key: z.string().min(1).max(LIMITS.apiKey) }),
  z.strictObject({
    op: z.literal('subscribe'),
    task_id: z.string().min(1).max(LIMITS.taskId),
    log_offset: z.number().int().min(0).optional(),
  }),
  z.strictObject({
    op: z.literal('unsubscribe'),
    task_id: z.string().min(1).max(LIMITS.taskId),
  }),
]);
export type WsClientMessage = z.infer<typeof WsClientMessage>;

/** WebSocket `/v1/ws`, server → client (besides the EventBus events `task.status`, `task.log`). */
export const WsControlMessage = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('ready'),
    version: z.string(),
    user: z.string(),
    role: z.string(),
  }),
  z.strictObject({
    type: z.literal('subscribed'),
    task_id: z.string(),
    status: TaskStatus.nullable(),
  }),
  z.strictObject({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type WsControlMessage = z.infer<typeof WsControlMessage>;

/** WebSocket `/v1/ws`, server → client: a task's status changed (the EventBus `task.status`). */
export const WsStatusEvent = z.strictObject({
  type: z.literal('task.status'),
  task_id: z.string(),
  status: z.string(),
  attempt: z.number().int(),
  exit_code: z.number().int().nullable(),
  at: z.string(),
});
export type WsStatusEvent = z.infer<typeof WsStatusEvent>;

/**
 * WebSocket `/v1/ws`, server → client: bytes of the task's log (the EventBus `task.log`).
 * `offset` is the byte offset of `text` in the log file; `replay: true` marks bytes read back from
 * the file (backlog, or a gap the live stream skipped), whose stream is not known.
 */
export const WsLogEvent = z.strictObject({
  type: z.literal('task.log'),
  task_id: z.string(),
  stream: z.enum(['stdout', 'stderr', 'system']),
  offset: z.number().int().min(0),
  text: z.string(),
  /** File bytes `text` stands for (differs from its UTF-8 length after invalid UTF-8). */
  bytes: z.number().int().min(0).optional(),
  at: z.string(),
  replay: z.boolean().optional(),
});
export type WsLogEvent = z.infer<typeof WsLogEvent>;

/** Every message the server sends on `/v1/ws`. */
export const WsServerMessage = z.union([WsStatusEvent, WsLogEvent, WsControlMessage]);
export type WsServerMessage = z.infer<typeof WsServerMessage>;

/** GET /v1/whoami: who the API key belongs to. */
export const WhoAmIResponse = z.strictObject({
  user: z.string(),
  role: z.string(),
  version: z.string(),
});
export type WhoAmIResponse = z.infer<typeof WhoAmIResponse>;
