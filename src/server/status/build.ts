/**
 * @module server/status/build
 * What `GET /v1/status` answers ({@link buildStatus}): counts, workers with their phase and what
 * they hold, the most relevant tasks, and every queued task's place in line and why it waits
 * (scheduler/waiting). Built from a fixed handful of indexed reads, whatever the store holds:
 *
 * - counts per status (store) and the `dead` count (queue): `GROUP BY` over the status indexes;
 * - the workers (store) and the running tasks (store, status index), for what each worker holds;
 * - the queued entries in claim order (queue: its ready index; small columns, no task documents);
 * - the 20 most recent tasks and the failures (store, created index), and the task documents of
 *   only the queued tasks shown.
 *
 * Nothing loads all tasks: finished tasks are only counted. Callers whose role reads only its own
 * tasks get only their own in every list (counts, workers and the queue total stay global; a
 * `blocked_by` naming someone else's task is left out).
 */
import type {
  QueuedTaskView,
  StatusCounts,
  StatusResponse,
  WaitReason,
  WaitReasonCode,
  WorkerView,
} from '../../core/schemas/status.ts';
import {
  STATUS_SCHEMA_VERSION,
  staleAfterMs,
  WAIT_REASON_CODES,
} from '../../core/schemas/status.ts';
import type { Task } from '../../core/schemas/task.ts';
import type { QueueEntry } from '../../queue/types.ts';
import type { WorkerRecord } from '../../store/types.ts';
import { explainQueue } from '../../scheduler/waiting.ts';
import type { WorkerCapacity } from '../../scheduler/waiting.ts';
import type { RouteContext } from '../context.ts';

/** How many recent tasks `recent` holds. */
export const STATUS_RECENT = 20;
/** Failures younger than this count as recent for the relevant list. */
const RECENT_FAILURE_MS = 24 * 3600_000;
/** At most this many recent failures and queued tasks in the relevant list. */
const RELEVANT_FAILURES = 5;
const RELEVANT_QUEUED = 10;
/** Running tasks read to know what workers hold. */
const RUNNING_MAX = 1000;

/** What the caller asked for and may see. */
export interface StatusRequest {
  /** Relevant tasks, at most. */
  limit: number;
  /** Queued tasks detailed, at most. */
  queued: number;
  /** Only this user's tasks in the lists (a role that reads only its own); null: everyone's. */
  onlyUser: string | null;
}

type Resources = { cpus: number; memory_mb: number; gpus: number };
const ZERO: Resources = { cpus: 0, memory_mb: 0, gpus: 0 };

function add(a: Resources, b: Resources): Resources {
  return {
    cpus: Math.round((a.cpus + b.cpus) * 1000) / 1000,
    memory_mb: a.memory_mb + b.memory_mb,
    gpus: a.gpus + b.gpus,
  };
}

/** A worker record and the running tasks on it, as status shows the worker. */
export function workerView(w: WorkerRecord, running: readonly Task[], now: number): WorkerView {
  const mine = running.filter((t) => t.worker_id === w.id);
  const ageMs = Math.max(0, now - Date.parse(w.last_seen_at));
  const live = w.status !== 'offline' && ageMs <= staleAfterMs(w.heartbeat_ms);
  const phase =
    w.status === 'offline' || !live
      ? 'offline'
      : w.status === 'draining'
        ? 'draining'
        : (w.phase ?? (mine.length > 0 ? 'running' : 'idle'));
  return {
    id: w.id,
    host: w.host,
    runtime: w.runtime,
    status: w.status,
    live,
    phase,
    version: w.version,
    labels: w.labels,
    resources: w.resources,
    held: mine.reduce((sum, t) => add(sum, t.resources), ZERO),
    concurrency: w.concurrency ?? null,
    last_seen_at: w.last_seen_at,
    last_seen_age_s: Math.round(ageMs / 100) / 10,
    tasks: w.tasks ?? [],
    prewarm: w.prewarm ?? null,
  };
}

function capacity(view: WorkerView, running: readonly Task[]): WorkerCapacity {
  const count = running.filter((t) => t.worker_id === view.id).length;
  return {
    id: view.id,
    status: view.status,
    live: view.live,
    total: view.resources,
    held: view.held,
    labels: view.labels,
    freeSlots: view.concurrency === null ? null : Math.max(0, view.concurrency - count),
  };
}

/** The relevant list: running, recent failures, queued in claim order, then recent others. */
function relevant(
  limit: number,
  running: readonly Task[],
  failures: readonly Task[],
  queued: readonly Task[],
  recent: readonly Task[],
): Task[] {
  const out: Task[] = [];
  const seen = new Set<string>();
  const take = (tasks: readonly Task[], max: number) => {
    let n = 0;
    for (const t of tasks) {
      if (out.length >= limit || n >= max) return;
      if (seen.has(t.id)) continue;
      seen.add(t.id);
      out.push(t);
      n++;
    }
  };
  const byStart = [...running].sort((a, b) =>
    (a.started_at ?? '').localeCompare(b.started_at ?? ''),
  );
  take(byStart, limit);
  take(failures, RELEVANT_FAILURES);
  take(queued, RELEVANT_QUEUED);
  take(recent, limit);
  return out;
}

function emptyTally(): Record<WaitReasonCode, number> {
  return Object.fromEntries(WAIT_REASON_CODES.map((c) => [c, 0])) as Record<WaitReasonCode, number>;
}

/** Builds the `GET /v1/status` answer (see the module doc). */
export async function buildStatus(ctx: RouteContext, req: StatusRequest): Promise<StatusResponse> {
  const now = ctx.clock();
  const user = req.onlyUser === null ? {} : { user: req.onlyUser };
  const [counts, queueCounts, records, running, entries, recent, failed, ownQueued] =
    await Promise.all([
      ctx.store.countTasksByStatus(),
      ctx.queue.counts(),
      ctx.store.listWorkers(),
      ctx.store.listTasks({ status: ['running'], limit: RUNNING_MAX }),
      ctx.queue.listQueued(),
      ctx.store.listTasks({ limit: STATUS_RECENT, ...user }),
      ctx.store.listTasks({ status: ['failed'], limit: RELEVANT_FAILURES, ...user }),
      req.onlyUser === null
        ? Promise.resolve(null)
        : ctx.store.listTasks({ status: ['queued'], limit: 1000, user: req.onlyUser }),
    ]);

  const workers = records.map((w) => workerView(w, running, now));
  const reasons = explainQueue(
    entries,
    // images_missing: a container worker never claims a task whose image it lacks (worker/images).
    workers.map((w, i) => ({
      ...capacity(w, running),
      runtime: w.runtime,
      images_missing: records[i]?.images_missing ?? [],
    })),
  );

  // The caller's queued tasks, in claim order, with their global positions.
  const ownIds = ownQueued === null ? null : new Set(ownQueued.map((t) => t.id));
  const visible: Array<{ entry: QueueEntry; position: number; reason: WaitReason }> = [];
  const tally = emptyTally();
  entries.forEach((entry, i) => {
    if (ownIds !== null && !ownIds.has(entry.task_id)) return;
    const reason = reasons[i]!;
    tally[reason.code] += 1;
    visible.push({ entry, position: i + 1, reason });
  });
  const shown = visible.slice(0, Math.max(req.queued, RELEVANT_QUEUED));
  const docs = await Promise.all(shown.map((v) => ctx.store.getTask(v.entry.task_id)));
  const queuedTasks: Task[] = [];
  const queueViews: QueuedTaskView[] = [];
  shown.forEach((v, i) => {
    const task = docs[i];
    // Finished or requeued between the two reads: leave it out rather than show a stale row.
    if (!task || task.status !== 'queued') return;
    queuedTasks.push(task);
    if (queueViews.length >= req.queued) return;
    const reason: WaitReason = { ...v.reason };
    if (reason.blocked_by !== undefined && ownIds !== null && !ownIds.has(reason.blocked_by)) {
      delete reason.blocked_by;
      reason.message = reason.message.replace(/^task_\w+/, 'a task');
    }
    queueViews.push({
      task_id: task.id,
      name: task.name,
      user: task.user,
      priority: v.entry.priority,
      position: v.position,
      resources: v.entry.resources,
      labels: v.entry.labels,
      attempt: v.entry.attempt,
      queued_at: task.queued_at,
      reason,
    });
  });

  const visibleRunning =
    req.onlyUser === null ? running : running.filter((t) => t.user === req.onlyUser);
  const recentFailures = failed.filter(
    (t) => now - Date.parse(t.ended_at ?? t.updated_at) <= RECENT_FAILURE_MS,
  );
  const statusCounts: StatusCounts = { ...counts, dead: queueCounts.dead };
  return {
    schema_version: STATUS_SCHEMA_VERSION,
    version: ctx.version,
    now: new Date(now).toISOString(),
    counts: statusCounts,
    workers,
    tasks: relevant(req.limit, visibleRunning, recentFailures, queuedTasks, recent),
    recent,
    queue: { total: entries.length, tasks: queueViews, reasons: tally },
  };
}
