/**
 * @module queue/errors
 * The one place that turns "this lease-fenced call matched nothing" into an error, shared by every
 * backend so a caller sees the same code and message whatever the datastore (the backend passes
 * what it found for the task, read in the same atomic step).
 */
import { FetchmlError } from '../core/errors.ts';
import type { QueueState } from './types.ts';

/** What a backend found for a task whose lease check failed. */
export interface LeaseCheckFacts {
  state: QueueState;
  lease_id: string | null;
  lease_expires_at: number | null;
}

/** Why a lease is not valid: the entry is finished, re-leased, or the lease ran out. */
export type LeaseLostReason = 'not_leased' | 'superseded' | 'expired';

/** ML_ERR_TASK_NOT_FOUND when `facts` is null, else ML_ERR_LEASE_LOST with the reason. */
export function leaseError(
  action: string,
  taskId: string,
  leaseId: string,
  facts: LeaseCheckFacts | null,
): FetchmlError {
  if (facts === null) return notInQueue(action, taskId);
  const reason: LeaseLostReason =
    facts.state !== 'leased' ? 'not_leased' : facts.lease_id !== leaseId ? 'superseded' : 'expired';
  const why = {
    not_leased: `the task is ${facts.state}`,
    superseded: 'another claim holds the task now',
    expired: 'the lease expired',
  }[reason];
  return new FetchmlError(
    'ML_ERR_LEASE_LOST',
    `${action}: lease ${leaseId} on ${taskId} is lost: ${why}`,
    {
      details: { task_id: taskId, lease_id: leaseId, reason, state: facts.state },
    },
  );
}

/** ML_ERR_TASK_NOT_FOUND for a task the queue has no entry for. */
export function notInQueue(action: string, taskId: string): FetchmlError {
  return new FetchmlError(
    'ML_ERR_TASK_NOT_FOUND',
    `${action}: no such task in the queue: ${taskId}`,
    {
      details: { task_id: taskId },
    },
  );
}
