/**
 * @module queue/sqlite/sql/admin
 * Transitions that name no lease: cancel and reapExpired. Callers run each function inside one
 * BEGIN IMMEDIATE transaction, so its statements see and change one consistent queue.
 *
 * cancel — Params: :task_id, :now. Tries, in order: queued → cancelled ('removed'); leased → set
 * cancel_requested ('signalled'); otherwise the entry is terminal ('already_finished').
 *
 * setPriority — Params: :task_id, :priority, :now. Only a queued entry changes (its seq is kept);
 * the previous priority is read in the same transaction, before the update.
 *
 * reapExpired — Params: :now. Every leased entry with lease_expires_at ≤ :now becomes, in order of
 * precedence: cancelled (cancel was requested), dead (attempt ≥ max_attempts) or queued (attempt
 * kept; the next claim adds one; it keeps its seq, so it is first among equal priorities again).
 */
import type { SqliteDatabase } from '../../../store/sqlite/connection.ts';
import { FetchmlError } from '../../../core/errors.ts';
import { notInQueue } from '../../errors.ts';
import type { CancelResult, ReapedEntry } from '../../types.ts';

export function cancelJob(db: SqliteDatabase, taskId: string, now: number): CancelResult {
  const params = { task_id: taskId, now };
  const removed = db
    .prepare(
      `UPDATE queue_jobs SET state = 'cancelled', cancel_requested = 1, updated_at = :now,
         finished_at = :now
       WHERE task_id = :task_id AND state = 'queued' RETURNING task_id`,
    )
    .get(params);
  if (removed !== undefined) return 'removed';
  const signalled = db
    .prepare(
      `UPDATE queue_jobs SET cancel_requested = 1, updated_at = :now
       WHERE task_id = :task_id AND state = 'leased' RETURNING task_id`,
    )
    .get(params);
  if (signalled !== undefined) return 'signalled';
  const exists = db.prepare('SELECT 1 FROM queue_jobs WHERE task_id = ?').get(taskId);
  if (exists === undefined) throw notInQueue('cancel', taskId);
  return 'already_finished';
}

export function setPriorityJob(
  db: SqliteDatabase,
  taskId: string,
  priority: number,
  now: number,
): { previous: number } {
  const row = db.prepare('SELECT state, priority FROM queue_jobs WHERE task_id = ?').get(taskId) as
    { state: string; priority: number } | undefined;
  if (row === undefined) throw notInQueue('set priority', taskId);
  if (row.state !== 'queued') {
    throw new FetchmlError(
      'ML_ERR_TASK_STATE',
      `cannot change the priority of task ${taskId}: it is ${row.state} (allowed: queued)`,
      { details: { task_id: taskId, state: row.state, action: 'set priority' } },
    );
  }
  db.prepare(
    `UPDATE queue_jobs SET priority = :priority, updated_at = :now
     WHERE task_id = :task_id AND state = 'queued'`,
  ).run({ task_id: taskId, priority, now });
  return { previous: row.priority };
}

const EXPIRED = `state = 'leased' AND lease_expires_at <= :now`;
const DROP_LEASE = 'lease_id = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = :now';

export function reapExpiredJobs(db: SqliteDatabase, now: number): ReapedEntry[] {
  const run = (outcome: ReapedEntry['outcome'], sql: string): ReapedEntry[] =>
    (db.prepare(sql).all({ now }) as Array<{ task_id: string; attempt: number }>).map((r) => ({
      task_id: r.task_id,
      outcome,
      attempt: r.attempt,
    }));
  return [
    ...run(
      'cancelled',
      `UPDATE queue_jobs SET state = 'cancelled', ${DROP_LEASE}, finished_at = :now
       WHERE ${EXPIRED} AND cancel_requested = 1 RETURNING task_id, attempt`,
    ),
    ...run(
      'dead',
      `UPDATE queue_jobs SET state = 'dead', ${DROP_LEASE}, finished_at = :now
       WHERE ${EXPIRED} AND attempt >= max_attempts RETURNING task_id, attempt`,
    ),
    ...run(
      'requeued',
      `UPDATE queue_jobs SET state = 'queued', ${DROP_LEASE}
       WHERE ${EXPIRED} RETURNING task_id, attempt`,
    ),
  ];
}
