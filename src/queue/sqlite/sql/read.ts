/**
 * @module queue/sqlite/sql/read
 * Reads: one entry by task id, the queued entries in claim order, counts per state, and the
 * distinct images of queued entries. Plain SELECTs, no transaction needed (WAL gives each statement
 * a consistent snapshot).
 */
import { FetchmlError } from '../../../core/errors.ts';
import type { SqliteDatabase } from '../../../store/sqlite/connection.ts';
import { QUEUE_STATES } from '../../types.ts';
import type { QueueEntry, QueueState } from '../../types.ts';

interface EntryRow {
  task_id: string;
  state: QueueState;
  priority: number;
  cpus: number;
  memory_mb: number;
  gpus: number;
  labels_json: string;
  image: string | null;
  attempt: number;
  max_attempts: number;
  lease_id: string | null;
  lease_expires_at: number | null;
  worker_id: string | null;
  cancel_requested: number;
  enqueued_at: number;
  updated_at: number;
  finished_at: number | null;
}

export function selectEntry(db: SqliteDatabase, taskId: string): QueueEntry | null {
  const row = db.prepare('SELECT * FROM queue_jobs WHERE task_id = ?').get(taskId) as
    EntryRow | undefined;
  return row === undefined ? null : decodeEntry(row);
}

/**
 * Queued entries in claim order (priority descending, then enqueue order): the `queue_jobs_ready`
 * partial index, so the cost follows the number of queued entries, not the table.
 */
export function selectQueued(db: SqliteDatabase, limit: number): QueueEntry[] {
  const rows = db
    .prepare(
      `SELECT * FROM queue_jobs WHERE state = 'queued' ORDER BY priority DESC, seq ASC LIMIT ?`,
    )
    .all(limit) as EntryRow[];
  return rows.map(decodeEntry);
}

function decodeEntry(row: EntryRow): QueueEntry {
  const taskId = row.task_id;
  let labels: unknown;
  try {
    labels = JSON.parse(row.labels_json);
  } catch (cause) {
    labels = cause;
  }
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) {
    throw new FetchmlError('ML_ERR_STORE_CORRUPT', `queue entry ${taskId}: labels are corrupt`, {
      cause: labels,
      details: { task_id: taskId },
    });
  }
  return {
    task_id: row.task_id,
    state: row.state,
    priority: row.priority,
    resources: { cpus: row.cpus, memory_mb: row.memory_mb, gpus: row.gpus },
    labels,
    image: row.image,
    attempt: row.attempt,
    max_attempts: row.max_attempts,
    lease_id: row.lease_id,
    lease_expires_at: row.lease_expires_at,
    worker_id: row.worker_id,
    cancel_requested: row.cancel_requested === 1,
    enqueued_at: row.enqueued_at,
    updated_at: row.updated_at,
    finished_at: row.finished_at,
  };
}

export function countStates(db: SqliteDatabase): Record<QueueState, number> {
  const counts = Object.fromEntries(QUEUE_STATES.map((s) => [s, 0])) as Record<QueueState, number>;
  const rows = db
    .prepare('SELECT state, count(*) AS n FROM queue_jobs GROUP BY state')
    .all() as Array<{
    state: QueueState;
    n: number;
  }>;
  for (const { state, n } of rows) counts[state] = n;
  return counts;
}

export function selectQueuedImages(db: SqliteDatabase): string[] {
  const rows = db
    .prepare(
      `SELECT DISTINCT image FROM queue_jobs
       WHERE state = 'queued' AND image IS NOT NULL ORDER BY image`,
    )
    .all() as Array<{ image: string }>;
  return rows.map((r) => r.image);
}
