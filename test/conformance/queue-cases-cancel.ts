/**
 * @module test/conformance/queue-cases-cancel
 * Conformance cases: cancel of queued, running, finished and unknown tasks, and lifecycle.
 */
import { expect } from 'vitest';

import { expectCode, job, worker } from './queue-helpers.ts';
import type { QueueCase } from './queue-helpers.ts';

export function cancelCases(it: QueueCase): void {
  it('cancel of a queued job removes it: cancelled, never claimed', async ({ queue }) => {
    await queue.enqueue(job('t1'));
    expect(await queue.cancel('t1')).toBe('removed');
    expect(await queue.get('t1')).toMatchObject({ state: 'cancelled', lease_id: null });
    expect(await queue.claim(worker())).toBeNull();
    expect(await queue.cancel('t1')).toBe('already_finished');
  });

  it('cancel of a running job is signalled through heartbeat', async ({ queue }) => {
    await queue.enqueue(job('t1'));
    const claim = await queue.claim(worker());
    expect(await queue.cancel('t1')).toBe('signalled');
    expect(await queue.get('t1')).toMatchObject({ state: 'leased', cancel_requested: true });
    expect((await queue.heartbeat('t1', claim!.lease_id, 10_000)).cancel_requested).toBe(true);
    expect(await queue.cancel('t1')).toBe('signalled');
    await queue.finishCancelled('t1', claim!.lease_id);
    expect(await queue.get('t1')).toMatchObject({ state: 'cancelled', lease_id: null });
    expect(await queue.cancel('t1')).toBe('already_finished');
  });

  it('cancel of a finished job reports already_finished and changes nothing', async ({ queue }) => {
    await queue.enqueue(job('t1'));
    const claim = await queue.claim(worker());
    await queue.complete('t1', claim!.lease_id);
    expect(await queue.cancel('t1')).toBe('already_finished');
    expect(await queue.get('t1')).toMatchObject({ state: 'completed', cancel_requested: false });
  });

  it('cancel of an unknown task is ML_ERR_TASK_NOT_FOUND', async ({ queue }) => {
    await expectCode(queue.cancel('nope'), 'ML_ERR_TASK_NOT_FOUND');
  });

  it('a signalled job whose lease expires is cancelled, not requeued', async ({ queue, clock }) => {
    await queue.enqueue(job('t1'));
    await queue.claim(worker('w', {}, 1_000));
    await queue.cancel('t1');
    clock.advance(1_000);
    expect(await queue.reapExpired()).toEqual([
      { task_id: 't1', outcome: 'cancelled', attempt: 1 },
    ]);
    expect((await queue.get('t1'))?.state).toBe('cancelled');
    expect(await queue.claim(worker())).toBeNull();
  });

  it('failing a signalled job with retry does not requeue it', async ({ queue }) => {
    await queue.enqueue(job('t1', { max_attempts: 5 }));
    const claim = await queue.claim(worker());
    await queue.cancel('t1');
    expect(await queue.fail('t1', claim!.lease_id, { retry: true })).toEqual({
      state: 'failed',
      attempt: 1,
    });
  });
}

export function lifecycleCases(it: QueueCase): void {
  it('declares its capabilities as booleans', ({ queue }) => {
    for (const key of ['blockingClaim', 'pubsub', 'multiProcess'] as const) {
      expect(typeof queue.capabilities[key]).toBe('boolean');
    }
    return Promise.resolve();
  });

  it('entries are visible from another connection', async (h) => {
    await h.queue.enqueue(job('t1', { priority: 4 }));
    const other = await h.connect();
    expect((await other.get('t1'))?.priority).toBe(4);
    const claim = await other.claim(worker());
    expect((await h.queue.get('t1'))?.lease_id).toBe(claim!.lease_id);
  });

  it('a closed queue rejects calls with ML_ERR_UNAVAILABLE; close is idempotent', async (h) => {
    const other = await h.connect();
    await other.close();
    await other.close();
    await expectCode(other.enqueue(job('t1')), 'ML_ERR_UNAVAILABLE');
    await expectCode(other.claim(worker()), 'ML_ERR_UNAVAILABLE');
  });
}
