/**
 * @module queue/sqlite/sql/enqueue
 * enqueue: insert one queued entry. The UNIQUE task_id turns a duplicate into a constraint error,
 * which the caller maps to ML_ERR_CONFLICT, in the same statement (no check-then-insert).
 */
import { FetchmlError } from '../../../core/errors.ts';
import { isConstraintError } from '../../../store/sqlite/connection.ts';
import type { SqliteDatabase } from '../../../store/sqlite/connection.ts';
import type { EnqueueInput } from '../../types.ts';

export function enqueueJob(db: SqliteDatabase, job: EnqueueInput, now: number): void {
  try {
    db.prepare(
      `INSERT INTO queue_jobs (task_id, state, priority, cpus, memory_mb, gpus, labels_json,
         image, attempt, max_attempts, enqueued_at, updated_at)
       VALUES (:task_id, 'queued', :priority, :cpus, :memory_mb, :gpus, :labels_json,
         :image, 0, :max_attempts, :now, :now)`,
    ).run({
      task_id: job.task_id,
      priority: job.priority,
      cpus: job.resources.cpus,
      memory_mb: job.resources.memory_mb,
      gpus: job.resources.gpus,
      labels_json: JSON.stringify([...new Set(job.labels)].sort()),
      image: job.image ?? null,
      max_attempts: job.max_attempts,
      now,
    });
  } catch (err) {
    if (isConstraintError(err, 'UNIQUE')) {
      throw new FetchmlError('ML_ERR_CONFLICT', `task ${job.task_id} is already in the queue`, {
        cause: err,
        details: { task_id: job.task_id },
      });
    }
    throw err;
  }
}
