/**
 * @module test/conformance/queue-cases-lease
 * Conformance cases: heartbeat, expiry and reaping, fencing, complete, fail and release.
 */
import { expect } from 'vitest';

import { expectCode, job, worker } from './queue-helpers.ts';
import type { QueueCase, QueueHarness } from './queue-helpers.ts';

async function enqueueAndClaim(h: QueueHarness, id = 't1', maxAttempts = 3, leaseMs = 10_000) {
  await h.queue.enqueue(job(id, { max_attempts: maxAttempts }));
  const claim = await h.queue.claim(worker('w1', {}, leaseMs));
  expect(claim?.task_id).toBe(id);
  return claim!;
}

export function leaseCases(it: QueueCase): void {
  it('heartbeat renews the lease from now', async (h) => {
    const claim = await enqueueAndClaim(h);
    h.clock.advance(9_000);
    const beat = await h.queue.heartbeat('t1', claim.lease_id, 10_000);
    expect(beat).toEqual({ lease_expires_at: h.clock.now() + 10_000, cancel_requested: false });
    h.clock.advance(9_000); // past the original expiry, within the renewed one
    expect(await h.queue.reapExpired()).toEqual([]);
    expect(await h.queue.get('t1')).toMatchObject({
      state: 'leased',
      lease_id: claim.lease_id,
      lease_expires_at: beat.lease_expires_at,
    });
  });

  it('an expired lease is requeued with attempt kept; the next claim adds one', async (h) => {
    const first = await enqueueAndClaim(h);
    h.clock.advance(10_000);
    expect(await h.queue.reapExpired()).toEqual([
      { task_id: 't1', outcome: 'requeued', attempt: 1 },
    ]);
    expect(await h.queue.get('t1')).toMatchObject({
      state: 'queued',
      attempt: 1,
      lease_id: null,
      lease_expires_at: null,
      worker_id: null,
    });
    const second = await h.queue.claim(worker('w2'));
    expect(second).toMatchObject({ task_id: 't1', attempt: 2 });
    expect(second!.lease_id).not.toBe(first.lease_id);
  });

  it('after max_attempts an expired lease makes the entry dead', async (h) => {
    await enqueueAndClaim(h, 't1', 2);
    h.clock.advance(10_000);
    expect(await h.queue.reapExpired()).toEqual([
      { task_id: 't1', outcome: 'requeued', attempt: 1 },
    ]);
    expect((await h.queue.claim(worker()))?.attempt).toBe(2);
    h.clock.advance(30_000);
    expect(await h.queue.reapExpired()).toEqual([{ task_id: 't1', outcome: 'dead', attempt: 2 }]);
    const entry = await h.queue.get('t1');
    expect(entry).toMatchObject({ state: 'dead', attempt: 2, lease_id: null });
    expect(entry?.finished_at).toBe(h.clock.now());
    expect(await h.queue.claim(worker())).toBeNull();
  });

  it('reaping ignores live leases and is idempotent', async (h) => {
    await h.queue.enqueue(job('short'));
    await h.queue.enqueue(job('long'));
    await h.queue.claim(worker('w', {}, 1_000));
    await h.queue.claim(worker('w', {}, 60_000));
    h.clock.advance(999);
    expect(await h.queue.reapExpired()).toEqual([]);
    h.clock.advance(1);
    expect(await h.queue.reapExpired()).toEqual([
      { task_id: 'short', outcome: 'requeued', attempt: 1 },
    ]);
    expect(await h.queue.reapExpired()).toEqual([]);
    expect((await h.queue.get('long'))?.state).toBe('leased');
  });

  it('reapExpired(now) judges expiry by the time given', async (h) => {
    await enqueueAndClaim(h, 't1', 3, 5_000);
    expect(await h.queue.reapExpired(h.clock.now() + 4_999)).toEqual([]);
    expect(await h.queue.reapExpired(h.clock.now() + 5_000)).toHaveLength(1);
  });

  it('complete: leased → completed, and it is never claimed again', async (h) => {
    const claim = await enqueueAndClaim(h);
    h.clock.advance(5);
    await h.queue.complete('t1', claim.lease_id);
    expect(await h.queue.get('t1')).toMatchObject({
      state: 'completed',
      attempt: 1,
      lease_id: null,
      finished_at: h.clock.now(),
    });
    expect(await h.queue.claim(worker())).toBeNull();
  });

  it('fail with retry and attempts left requeues; otherwise it is failed', async (h) => {
    const c1 = await enqueueAndClaim(h, 't1', 2);
    expect(await h.queue.fail('t1', c1.lease_id, { retry: true })).toEqual({
      state: 'queued',
      attempt: 1,
    });
    const c2 = await h.queue.claim(worker());
    expect(c2?.attempt).toBe(2);
    expect(await h.queue.fail('t1', c2!.lease_id, { retry: true })).toEqual({
      state: 'failed',
      attempt: 2,
    });
    expect((await h.queue.get('t1'))?.state).toBe('failed');

    const c3 = await enqueueAndClaim(h, 't2', 5);
    expect(await h.queue.fail('t2', c3.lease_id, { retry: false })).toEqual({
      state: 'failed',
      attempt: 1,
    });
    expect(await h.queue.claim(worker())).toBeNull();
  });

  it('release returns the job without consuming an attempt, keeping its place', async (h) => {
    const claim = await enqueueAndClaim(h, 't1', 1);
    await h.queue.enqueue(job('t2'));
    await h.queue.release('t1', claim.lease_id);
    expect(await h.queue.get('t1')).toMatchObject({ state: 'queued', attempt: 0, lease_id: null });
    const again = await h.queue.claim(worker());
    // max_attempts is 1, yet after a release the job may still run once.
    expect(again).toMatchObject({ task_id: 't1', attempt: 1 });
    await expectCode(h.queue.release('t1', claim.lease_id), 'ML_ERR_LEASE_LOST');
  });
}

export function fencingCases(it: QueueCase): void {
  it('a stale worker cannot touch a newer attempt', async (h) => {
    const stale = await enqueueAndClaim(h);
    h.clock.advance(10_000);
    await h.queue.reapExpired();
    const fresh = await h.queue.claim(worker('w2'));
    expect(fresh?.attempt).toBe(2);
    const err = await expectCode(h.queue.complete('t1', stale.lease_id), 'ML_ERR_LEASE_LOST');
    expect(err.details).toMatchObject({ task_id: 't1', reason: 'superseded' });
    await expectCode(h.queue.fail('t1', stale.lease_id, { retry: true }), 'ML_ERR_LEASE_LOST');
    await expectCode(h.queue.heartbeat('t1', stale.lease_id, 10_000), 'ML_ERR_LEASE_LOST');
    await expectCode(h.queue.release('t1', stale.lease_id), 'ML_ERR_LEASE_LOST');
    await expectCode(h.queue.finishCancelled('t1', stale.lease_id), 'ML_ERR_LEASE_LOST');
    expect(await h.queue.get('t1')).toMatchObject({
      state: 'leased',
      attempt: 2,
      lease_id: fresh!.lease_id,
      worker_id: 'w2',
    });
    await h.queue.complete('t1', fresh!.lease_id);
    expect((await h.queue.get('t1'))?.state).toBe('completed');
  });

  it('an expired lease is lost even before it is reaped', async (h) => {
    const claim = await enqueueAndClaim(h);
    h.clock.advance(10_000);
    const err = await expectCode(
      h.queue.heartbeat('t1', claim.lease_id, 10_000),
      'ML_ERR_LEASE_LOST',
    );
    expect(err.details).toMatchObject({ reason: 'expired' });
    await expectCode(h.queue.complete('t1', claim.lease_id), 'ML_ERR_LEASE_LOST');
    expect(await h.queue.reapExpired()).toEqual([
      { task_id: 't1', outcome: 'requeued', attempt: 1 },
    ]);
  });

  it('a finished job rejects every lease call', async (h) => {
    const claim = await enqueueAndClaim(h);
    await h.queue.complete('t1', claim.lease_id);
    const err = await expectCode(h.queue.complete('t1', claim.lease_id), 'ML_ERR_LEASE_LOST');
    expect(err.details).toMatchObject({ reason: 'not_leased', state: 'completed' });
    await expectCode(h.queue.fail('t1', claim.lease_id, { retry: false }), 'ML_ERR_LEASE_LOST');
    expect((await h.queue.get('t1'))?.state).toBe('completed');
  });

  it('a wrong lease id is lost; an unknown task is not found', async (h) => {
    await enqueueAndClaim(h);
    await expectCode(h.queue.complete('t1', 'lease_bogus'), 'ML_ERR_LEASE_LOST');
    expect((await h.queue.get('t1'))?.state).toBe('leased');
    await expectCode(h.queue.complete('nope', 'lease_bogus'), 'ML_ERR_TASK_NOT_FOUND');
    await expectCode(h.queue.heartbeat('nope', 'lease_bogus', 1000), 'ML_ERR_TASK_NOT_FOUND');
    await expectCode(h.queue.fail('nope', 'lease_bogus', { retry: true }), 'ML_ERR_TASK_NOT_FOUND');
  });
}
