/**
 * @module core/schemas/status
 * The status API: what `GET /v1/status` answers and what `ml status --json` prints. Both are
 * stable, versioned APIs (`schema_version`): fields may be added, never renamed or removed
 * without a new version. The JSON Schema of the `ml status --json` document is generated from
 * {@link StatusJson} into `docs/status.schema.json` and compared by a test.
 *
 * Glossary:
 * - live worker: not `offline`, and its last heartbeat is recent (within {@link staleAfterMs}).
 * - worker phase: what a worker does now — `idle` (nothing to do), `staging` (a claimed task is
 *   being staged: image, snapshot), `running` (at least one job runs), `prewarming` (idle, but
 *   staging the next queued task ahead of time), `draining` (stopping), `offline`.
 * - position: a queued task's 1-based place in claim order (highest priority first, then
 *   enqueue order), counted over every queued task.
 * - wait reason: why a queued task has not started yet (see {@link WAIT_REASON_CODES}).
 *
 * The CLI imports only types from here (zod stays off `ml status`'s start-up path).
 */
import { z } from 'zod';

import { IsoTime, Resources } from './common.ts';
import { Task } from './task.ts';

/** Version of the status documents; bumped only for an incompatible change. */
export const STATUS_SCHEMA_VERSION = 1;

/** What a worker does now; see the module glossary. */
export const WORKER_PHASES = [
  'idle',
  'staging',
  'running',
  'prewarming',
  'draining',
  'offline',
] as const;
export const WorkerPhase = z.enum(WORKER_PHASES);
export type WorkerPhase = z.infer<typeof WorkerPhase>;

/** Where one of a worker's attempts is: staging its inputs, running the job, or storing output. */
export const WorkerTaskPhase = z.enum(['staging', 'running', 'finishing']);
export type WorkerTaskPhase = z.infer<typeof WorkerTaskPhase>;

/** One attempt a worker holds, as the worker reports it. */
export const WorkerTask = z.strictObject({
  task_id: z.string(),
  attempt: z.number().int().min(1),
  phase: WorkerTaskPhase,
  /** When it entered this phase. */
  since: IsoTime,
});
export type WorkerTask = z.infer<typeof WorkerTask>;

/**
 * The worker's prewarm state (best-effort staging of the next queued task). `target_task_id`: the
 * task being prepared; `phase`: `staging` while it works, `ready` when the task can start without
 * staging, `failed` when it gave up (the task then stages normally); `dataset_count`: datasets
 * staged for it; `started_at`: when it began (its age is `now − started_at`).
 */
export const PrewarmState = z.strictObject({
  target_task_id: z.string(),
  phase: z.enum(['staging', 'ready', 'failed']),
  dataset_count: z.number().int().min(0),
  started_at: IsoTime,
});
export type PrewarmState = z.infer<typeof PrewarmState>;

/** A worker as status shows it: its record plus what the server derives. */
export const WorkerView = z.strictObject({
  id: z.string(),
  host: z.string(),
  runtime: z.string(),
  /** online: claiming; draining: finishing what it has; offline: stopped. */
  status: z.enum(['online', 'draining', 'offline']),
  /** false when offline or its heartbeat is older than {@link staleAfterMs}. */
  live: z.boolean(),
  phase: WorkerPhase,
  version: z.string(),
  labels: z.array(z.string()),
  /** What it offers in total. */
  resources: Resources,
  /** What its running tasks hold now (from the tasks the store has as running on it). */
  held: z.strictObject({
    cpus: z.number().min(0),
    memory_mb: z.number().int().min(0),
    gpus: z.number().int().min(0),
  }),
  /** Tasks it runs at once at most (null: the worker did not say). */
  concurrency: z.number().int().min(1).nullable(),
  last_seen_at: IsoTime,
  /** Seconds since its last heartbeat, by the server's clock. */
  last_seen_age_s: z.number().min(0),
  /** The attempts it holds, as it last reported them. */
  tasks: z.array(WorkerTask),
  /** Its prewarm state (null: not prewarming, or the worker has no prewarm). */
  prewarm: PrewarmState.nullable(),
});
export type WorkerView = z.infer<typeof WorkerView>;

/**
 * Why a queued task is still waiting (stable codes; the message is for people and may change):
 * - `ready`: a live worker has room for it now; it starts at that worker's next claim.
 * - `no_live_worker`: no worker is online (none registered, or all offline or silent).
 * - `workers_draining`: the only workers that could run it are stopping.
 * - `labels_unmatched`: no live worker offers all its labels (`missing_labels`).
 * - `too_large`: it asks for more CPUs, memory or GPUs than any live worker has in total
 *   (`short`: each resource, what it needs, the most any worker has).
 * - `image_unavailable`: every live worker that could run it lacks its container image and will
 *   not claim it (`workers`: those workers); the message names the image and how to provide it.
 * - `workers_busy`: a worker could run it, but its room (or its concurrency) is held by running
 *   tasks (`workers`).
 * - `higher_priority_ahead`: a task ahead of it with a higher priority takes the free room
 *   (`blocked_by`).
 * - `earlier_task_ahead`: a task of the same priority, queued earlier, takes the free room first
 *   (`blocked_by`).
 * - `quota`: reserved for the quota manager (not produced while fetchml has no quotas).
 */
export const WAIT_REASON_CODES = [
  'ready',
  'no_live_worker',
  'workers_draining',
  'labels_unmatched',
  'too_large',
  'image_unavailable',
  'workers_busy',
  'higher_priority_ahead',
  'earlier_task_ahead',
  'quota',
] as const;
export const WaitReasonCode = z.enum(WAIT_REASON_CODES);
export type WaitReasonCode = z.infer<typeof WaitReasonCode>;

/** A resource a task asks more of than any live worker has. */
export const ResourceShortfall = z.strictObject({
  resource: z.enum(['cpus', 'memory_mb', 'gpus']),
  need: z.number(),
  /** The most any live (label-matching) worker offers in total. */
  max: z.number(),
});
export type ResourceShortfall = z.infer<typeof ResourceShortfall>;

export const WaitReason = z.strictObject({
  code: WaitReasonCode,
  /** One line for people. */
  message: z.string(),
  /** The task ahead that takes the room (`*_ahead`; omitted when the caller may not see it). */
  blocked_by: z.string().optional(),
  /** Workers concerned: the one that will claim it (`ready`), or the busy ones. */
  workers: z.array(z.string()).optional(),
  missing_labels: z.array(z.string()).optional(),
  short: z.array(ResourceShortfall).optional(),
});
export type WaitReason = z.infer<typeof WaitReason>;

/** One queued task with its place in line and why it waits. */
export const QueuedTaskView = z.strictObject({
  task_id: z.string(),
  name: z.string(),
  user: z.string(),
  priority: z.number().int(),
  /** 1-based place in claim order among all queued tasks. */
  position: z.number().int().min(1),
  resources: Resources,
  labels: z.array(z.string()),
  attempt: z.number().int().min(0),
  queued_at: IsoTime,
  reason: WaitReason,
});
export type QueuedTaskView = z.infer<typeof QueuedTaskView>;

/** The queue: how many wait, the first ones in claim order, and a tally of why they all wait. */
export const QueueView = z.strictObject({
  /** Queued tasks in all (everyone's). */
  total: z.number().int().min(0),
  /** The first queued tasks the caller may see, in claim order. */
  tasks: z.array(QueuedTaskView),
  /** How many of the caller's visible queued tasks wait for each reason (every code present). */
  reasons: z.record(WaitReasonCode, z.number().int().min(0)),
});
export type QueueView = z.infer<typeof QueueView>;

/**
 * Tasks per status. `dead` is part of `failed`: tasks whose worker stopped answering on their
 * last attempt (the lease expired with no attempts left).
 */
export const StatusCounts = z.strictObject({
  queued: z.number().int().min(0),
  running: z.number().int().min(0),
  completed: z.number().int().min(0),
  failed: z.number().int().min(0),
  cancelled: z.number().int().min(0),
  dead: z.number().int().min(0),
});
export type StatusCounts = z.infer<typeof StatusCounts>;

/** GET /v1/status query. */
export const StatusQuery = z.strictObject({
  /** How many relevant tasks to include (`tasks`). */
  limit: z.coerce.number().int().min(1).max(200).default(20),
  /** How many queued tasks to detail (`queue.tasks`). */
  queued: z.coerce.number().int().min(0).max(1000).default(50),
});
export type StatusQuery = { limit?: number; queued?: number };

/**
 * GET /v1/status: everything `ml status` shows, in one request. Counts, workers and the queue
 * total are global; task lists hold only the caller's tasks when its role reads only its own.
 */
export const StatusResponse = z.strictObject({
  schema_version: z.literal(STATUS_SCHEMA_VERSION),
  version: z.string(),
  now: IsoTime,
  counts: StatusCounts,
  workers: z.array(WorkerView),
  /**
   * The most relevant tasks: running (oldest start first), then failures of the last 24 hours
   * (newest first), then queued in claim order, then the most recent others — at most `limit`.
   */
  tasks: z.array(Task),
  /** The 20 most recent tasks, newest first (whatever their status). */
  recent: z.array(Task),
  queue: QueueView,
});
export type StatusResponse = z.infer<typeof StatusResponse>;

/**
 * `ml status --json` (stable). `tasks` is what the table shows: the server's relevant tasks, or
 * with `--status`/`--all` the filtered list (queued ones in claim order).
 */
export const StatusJson = z.strictObject({
  schema_version: z.literal(STATUS_SCHEMA_VERSION),
  /** The server's URL. */
  server: z.string(),
  /** The server's fetchml version. */
  version: z.string(),
  /** The server's clock when it answered. */
  now: IsoTime,
  counts: StatusCounts,
  workers: z.array(WorkerView),
  tasks: z.array(Task),
  queue: QueueView,
});
export type StatusJson = z.infer<typeof StatusJson>;

/**
 * How long after its last heartbeat a worker still counts as live: three heartbeats, at least
 * 10 s; 30 s when the worker did not say how often it beats.
 */
export function staleAfterMs(heartbeatMs: number | null | undefined): number {
  return heartbeatMs ? Math.max(3 * heartbeatMs, 10_000) : 30_000;
}

/** The JSON Schema of `ml status --json`, as published in `docs/status.schema.json`. */
export function statusJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(StatusJson, { io: 'output', unrepresentable: 'any' }),
    title: 'ml status --json',
    description: `The document \`ml status --json\` prints (schema_version ${STATUS_SCHEMA_VERSION}). Fields may be added in a later version of fetchml; none is renamed or removed without a new schema_version.`,
  };
}
