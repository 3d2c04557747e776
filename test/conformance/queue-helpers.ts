/**
 * @module test/conformance/queue-helpers
 * What the queue conformance cases share: the harness a backend provides, input builders with
 * sensible defaults, and an error assertion. No backend-specific code lives here.
 */
import { expect } from 'vitest';

import { FetchmlError } from '../../src/core/errors.ts';
import type { ErrorCode } from '../../src/core/errors.ts';
import type { ClaimInput, EnqueueInput, JobQueue } from '../../src/queue/types.ts';

/** A clock the test controls; the backend's queue must read time from it. */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
}

/** One fresh, isolated queue per test. */
export interface QueueHarness {
  queue: JobQueue;
  clock: TestClock;
  /** Another connection (another client) to the same queue, on the same clock. */
  connect(): Promise<JobQueue>;
  /** Closes every connection and deletes the queue's data. */
  cleanup(): Promise<void>;
}

/** Registers one case; the suite wraps it with the harness and the skip list. */
export type QueueCase = (title: string, fn: (h: QueueHarness) => Promise<void>) => void;

/** An enqueue input with small defaults. */
export function job(taskId: string, over: Partial<EnqueueInput> = {}): EnqueueInput {
  return {
    task_id: taskId,
    priority: 0,
    resources: { cpus: 1, memory_mb: 512, gpus: 0 },
    labels: [],
    max_attempts: 3,
    ...over,
  };
}

/** A claim by a worker with plenty free (overridable), 30 s lease. */
export function worker(
  id = 'worker-a',
  free: Partial<ClaimInput['free']> = {},
  leaseMs = 30_000,
): ClaimInput {
  return {
    worker_id: id,
    free: { cpus: 64, memory_mb: 262_144, gpus: 8, labels: [], ...free },
    lease_ms: leaseMs,
  };
}

/** Claims until null; returns the task ids in claim order. */
export async function drain(queue: JobQueue, input: ClaimInput = worker()): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const claim = await queue.claim(input);
    if (claim === null) return ids;
    ids.push(claim.task_id);
  }
}

/** Awaits `promise`, expecting it to reject with a FetchmlError of `code`; returns the error. */
export async function expectCode(
  promise: Promise<unknown>,
  code: ErrorCode,
): Promise<FetchmlError> {
  const outcome = await promise.then(
    (value: unknown) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) {
    throw new Error(`expected ${code}, but it resolved with ${JSON.stringify(outcome.value)}`);
  }
  expect(outcome.error).toBeInstanceOf(FetchmlError);
  const err = outcome.error as FetchmlError;
  expect(err.code, err.message).toBe(code);
  return err;
}
