/**
 * @module queue/sqlite/sql/lease
 * The lease-fenced transitions: heartbeat, complete, fail, release, finishCancelled. Each is ONE
 * conditional `UPDATE … RETURNING` whose WHERE is the lease check
 *
 *     state = 'leased' AND lease_id = :lease_id AND lease_expires_at > :now
 *
 * so a stale worker's call matches nothing. Only then is the entry read (same transaction) to
 * report why, through the shared queue/errors.ts mapper. Callers run these inside BEGIN IMMEDIATE.
 *
 * Params of every statement: :task_id, :lease_id, :now (ms); heartbeat adds :lease_ms, fail :retry.
 */
import type { SqliteDatabase } from '../../../store/sqlite/connection.ts';
import { leaseError } from '../../errors.ts';
import type { LeaseCheckFacts } from '../../errors.ts';
import type { FailResult, HeartbeatResult } from '../../types.ts';

const VALID_LEASE = `task_id = :task_id AND state = 'leased' AND lease_id = :lease_id
  AND lease_expires_at > :now`;

/** Clears the lease columns; used by every transition out of `leased`. */
const DROP_LEASE = 'lease_id = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = :now';

interface LeaseParams {
  task_id: string;
  lease_id: string;
  now: number;
}

function fenced<T>(
  db: SqliteDatabase,
  action: string,
  sql: string,
  params: LeaseParams & { lease_ms?: number; retry?: 0 | 1 },
): T {
  const row = db.prepare(sql).get(params) as T | undefined;
  if (row !== undefined) return row;
  const facts = db
    .prepare('SELECT state, lease_id, lease_expires_at FROM queue_jobs WHERE task_id = ?')
    .get(params.task_id) as LeaseCheckFacts | undefined;
  throw leaseError(action, params.task_id, params.lease_id, facts ?? null);
}

export function heartbeatJob(db: SqliteDatabase, p: LeaseParams, leaseMs: number): HeartbeatResult {
  const row = fenced<{ lease_expires_at: number; cancel_requested: number }>(
    db,
    'heartbeat',
    `UPDATE queue_jobs SET lease_expires_at = CAST(:now + :lease_ms AS INTEGER), updated_at = :now
     WHERE ${VALID_LEASE}
     RETURNING lease_expires_at, cancel_requested`,
    { ...p, lease_ms: leaseMs },
  );
  return { lease_expires_at: row.lease_expires_at, cancel_requested: row.cancel_requested === 1 };
}

export function completeJob(db: SqliteDatabase, p: LeaseParams): void {
  fenced(
    db,
    'complete',
    `UPDATE queue_jobs SET state = 'completed', ${DROP_LEASE}, finished_at = :now
     WHERE ${VALID_LEASE} RETURNING task_id`,
    p,
  );
}

/**
 * Requeue only when asked, attempts are left and no cancel was requested (SET expressions see the
 * row's values from before the update, so both CASEs test the same condition).
 */
export function failJob(db: SqliteDatabase, p: LeaseParams, retry: boolean): FailResult {
  const again = ':retry = 1 AND attempt < max_attempts AND cancel_requested = 0';
  return fenced<FailResult>(
    db,
    'fail',
    `UPDATE queue_jobs
     SET state = CASE WHEN ${again} THEN 'queued' ELSE 'failed' END, ${DROP_LEASE},
         finished_at = CASE WHEN ${again} THEN NULL ELSE :now END
     WHERE ${VALID_LEASE} RETURNING state, attempt`,
    { ...p, retry: retry ? 1 : 0 },
  );
}

/** Back to queued without using an attempt: the claim's +1 is undone. */
export function releaseJob(db: SqliteDatabase, p: LeaseParams): void {
  fenced(
    db,
    'release',
    `UPDATE queue_jobs SET state = 'queued', attempt = attempt - 1, ${DROP_LEASE}
     WHERE ${VALID_LEASE} RETURNING task_id`,
    p,
  );
}

export function finishCancelledJob(db: SqliteDatabase, p: LeaseParams): void {
  fenced(
    db,
    'finish cancelled',
    `UPDATE queue_jobs SET state = 'cancelled', ${DROP_LEASE}, finished_at = :now
     WHERE ${VALID_LEASE} RETURNING task_id`,
    p,
  );
}
