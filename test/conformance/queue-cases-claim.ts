/**
 * @module test/conformance/queue-cases-claim
 * Conformance cases: enqueue, claim order (priority, FIFO), resource fit and the image filter.
 */
import { expect } from 'vitest';

import { drain, expectCode, job, worker } from './queue-helpers.ts';
import type { QueueCase } from './queue-helpers.ts';

export function enqueueCases(it: QueueCase): void {
  it('a new entry is queued with attempt 0 and no lease', async ({ queue, clock }) => {
    await queue.enqueue(job('t1', { priority: 5, labels: ['gpu', 'a100'], max_attempts: 2 }));
    const entry = await queue.get('t1');
    expect(entry).toMatchObject({
      task_id: 't1',
      state: 'queued',
      priority: 5,
      resources: { cpus: 1, memory_mb: 512, gpus: 0 },
      attempt: 0,
      max_attempts: 2,
      image: null,
      lease_id: null,
      lease_expires_at: null,
      worker_id: null,
      cancel_requested: false,
      enqueued_at: clock.now(),
      finished_at: null,
    });
    expect([...(entry?.labels ?? [])].sort()).toEqual(['a100', 'gpu']);
  });

  it('a duplicate task id is ML_ERR_CONFLICT, also after it finished', async ({ queue }) => {
    await queue.enqueue(job('t1'));
    await expectCode(queue.enqueue(job('t1', { priority: 9 })), 'ML_ERR_CONFLICT');
    expect((await queue.get('t1'))?.priority).toBe(0);
    const claim = await queue.claim(worker());
    await queue.complete('t1', claim!.lease_id);
    await expectCode(queue.enqueue(job('t1')), 'ML_ERR_CONFLICT');
    expect((await queue.get('t1'))?.state).toBe('completed');
  });

  it('invalid input is ML_ERR_VALIDATION and stores nothing', async ({ queue }) => {
    await expectCode(queue.enqueue(job('t1', { max_attempts: 0 })), 'ML_ERR_VALIDATION');
    await expectCode(
      queue.enqueue(job('t2', { resources: { cpus: -1, memory_mb: 1, gpus: 0 } })),
      'ML_ERR_VALIDATION',
    );
    await expectCode(queue.claim(worker('w', {}, 0)), 'ML_ERR_VALIDATION');
    expect(await queue.get('t1')).toBeNull();
    expect((await queue.counts()).queued).toBe(0);
  });

  it('get of an unknown task is null', async ({ queue }) => {
    expect(await queue.get('nope')).toBeNull();
  });

  it('counts has every state', async ({ queue }) => {
    await queue.enqueue(job('a'));
    await queue.enqueue(job('b'));
    await queue.enqueue(job('c'));
    const claim = await queue.claim(worker());
    await queue.complete(claim!.task_id, claim!.lease_id);
    await queue.claim(worker());
    expect(await queue.counts()).toEqual({
      queued: 1,
      leased: 1,
      completed: 1,
      failed: 0,
      cancelled: 0,
      dead: 0,
    });
  });
}

export function claimCases(it: QueueCase): void {
  it('an empty queue gives null', async ({ queue }) => {
    expect(await queue.claim(worker())).toBeNull();
  });

  it('highest priority first', async ({ queue }) => {
    await queue.enqueue(job('low', { priority: -5 }));
    await queue.enqueue(job('mid', { priority: 0 }));
    await queue.enqueue(job('high', { priority: 10 }));
    expect(await drain(queue)).toEqual(['high', 'mid', 'low']);
  });

  it('FIFO within a priority', async ({ queue, clock }) => {
    const ids = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`).reverse();
    for (const id of ids) {
      // Same timestamp for all: order must come from enqueue order, not time or id.
      await queue.enqueue(job(id, { priority: 1 }));
    }
    clock.advance(1);
    await queue.enqueue(job('later-high', { priority: 2 }));
    expect(await drain(queue)).toEqual(['later-high', ...ids]);
  });

  it('a claim leases: attempt 1, new lease id, worker, expiry = now + lease_ms', async (h) => {
    await h.queue.enqueue(job('t1'));
    await h.queue.enqueue(job('t2'));
    const a = await h.queue.claim(worker('w1', {}, 10_000));
    const b = await h.queue.claim(worker('w2', {}, 20_000));
    expect(a).toMatchObject({
      task_id: 't1',
      attempt: 1,
      lease_expires_at: h.clock.now() + 10_000,
    });
    expect(b).toMatchObject({
      task_id: 't2',
      attempt: 1,
      lease_expires_at: h.clock.now() + 20_000,
    });
    expect(a!.lease_id).toMatch(/^lease_/);
    expect(a!.lease_id).not.toBe(b!.lease_id);
    expect(await h.queue.get('t1')).toMatchObject({
      state: 'leased',
      attempt: 1,
      lease_id: a!.lease_id,
      lease_expires_at: a!.lease_expires_at,
      worker_id: 'w1',
    });
  });

  it('skips jobs needing more cpus, memory or gpus than free', async ({ queue }) => {
    await queue.enqueue(job('cpu', { priority: 3, resources: { cpus: 8, memory_mb: 1, gpus: 0 } }));
    await queue.enqueue(
      job('mem', { priority: 2, resources: { cpus: 1, memory_mb: 9000, gpus: 0 } }),
    );
    await queue.enqueue(job('gpu', { priority: 1, resources: { cpus: 1, memory_mb: 1, gpus: 2 } }));
    await queue.enqueue(job('fits', { resources: { cpus: 4, memory_mb: 8192, gpus: 1 } }));
    const small = worker('w', { cpus: 4, memory_mb: 8192, gpus: 1 });
    expect(await drain(queue, small)).toEqual(['fits']);
    expect(await drain(queue, worker('w', { cpus: 8, memory_mb: 8192, gpus: 1 }))).toEqual(['cpu']);
    expect(await drain(queue, worker('w', { cpus: 1, memory_mb: 9000, gpus: 2 }))).toEqual([
      'mem',
      'gpu',
    ]);
  });

  it('fractional cpus and exact fits are allowed', async ({ queue }) => {
    await queue.enqueue(job('half', { resources: { cpus: 0.5, memory_mb: 256, gpus: 0 } }));
    expect(await drain(queue, worker('w', { cpus: 0.5, memory_mb: 256, gpus: 0 }))).toEqual([
      'half',
    ]);
  });

  it('every job label must be among the worker labels', async ({ queue }) => {
    await queue.enqueue(job('both', { priority: 2, labels: ['gpu', 'a100'] }));
    await queue.enqueue(job('one', { priority: 1, labels: ['gpu'] }));
    await queue.enqueue(job('none'));
    expect(await drain(queue, worker('w', { labels: [] }))).toEqual(['none']);
    expect(await drain(queue, worker('w', { labels: ['gpu', 'x'] }))).toEqual(['one']);
    expect(await drain(queue, worker('w', { labels: ['x', 'a100', 'gpu'] }))).toEqual(['both']);
  });

  it('a claim that lists images skips jobs whose image is not listed', async ({ queue }) => {
    await queue.enqueue(job('missing', { priority: 9, image: 'localhost/missing:1' }));
    await queue.enqueue(job('busybox', { priority: 5, image: 'localhost/busybox:1' }));
    await queue.enqueue(job('no-image', { priority: 1 }));
    const lacking = { ...worker('w1'), images: ['localhost/busybox:1'] };
    expect(await drain(queue, lacking)).toEqual(['busybox', 'no-image']);
    // Never claimed: attempt 0, no lease, and still listed among the queued images.
    expect(await queue.get('missing')).toMatchObject({
      state: 'queued',
      image: 'localhost/missing:1',
      attempt: 0,
      lease_id: null,
      worker_id: null,
    });
    expect(await queue.claim({ ...worker('w1'), images: [] })).toBeNull();
    expect(await drain(queue, { ...worker('w2'), images: ['localhost/missing:1'] })).toEqual([
      'missing',
    ]);
  });

  it('a claim without images takes any image', async ({ queue }) => {
    await queue.enqueue(job('img', { image: 'localhost/anything:1' }));
    expect(await drain(queue, worker('host-runtime'))).toEqual(['img']);
  });

  it('queuedImages lists the distinct images of queued entries only', async ({ queue }) => {
    expect(await queue.queuedImages()).toEqual([]);
    await queue.enqueue(job('a', { priority: 3, image: 'localhost/z:1' }));
    await queue.enqueue(job('b', { priority: 2, image: 'localhost/a:1' }));
    await queue.enqueue(job('c', { priority: 1, image: 'localhost/z:1' }));
    await queue.enqueue(job('d'));
    expect(await queue.queuedImages()).toEqual(['localhost/a:1', 'localhost/z:1']);
    await queue.claim(worker()); // a
    expect(await queue.queuedImages()).toEqual(['localhost/a:1', 'localhost/z:1']);
    await queue.claim(worker()); // b
    expect(await queue.queuedImages()).toEqual(['localhost/z:1']);
    await queue.cancel('c');
    expect(await queue.queuedImages()).toEqual([]);
  });

  it('an empty image name is ML_ERR_VALIDATION and stores nothing', async ({ queue }) => {
    await expectCode(queue.enqueue(job('t1', { image: '' })), 'ML_ERR_VALIDATION');
    expect(await queue.get('t1')).toBeNull();
    await expectCode(queue.claim({ ...worker(), images: [''] }), 'ML_ERR_VALIDATION');
  });

  it('a big job that does not fit does not block smaller lower jobs', async ({ queue }) => {
    await queue.enqueue(
      job('big', { priority: 100, resources: { cpus: 32, memory_mb: 1, gpus: 8 } }),
    );
    await queue.enqueue(job('small-1', { priority: 1 }));
    await queue.enqueue(job('small-2', { priority: 0 }));
    const modest = worker('w', { cpus: 4, gpus: 1 });
    expect(await drain(queue, modest)).toEqual(['small-1', 'small-2']);
    expect((await queue.get('big'))?.state).toBe('queued');
    expect(await drain(queue, worker('w2', { cpus: 32, gpus: 8 }))).toEqual(['big']);
  });

  it('two connections claiming concurrently never get the same job', async (h) => {
    const other = await h.connect();
    const total = 60;
    for (let i = 0; i < total; i++) await h.queue.enqueue(job(`t${i}`, { priority: i % 3 }));
    const loop = async (q: typeof other, id: string) => {
      const got: string[] = [];
      for (;;) {
        const claim = await q.claim(worker(id));
        if (claim === null) return got;
        got.push(claim.task_id);
      }
    };
    const [a, b] = await Promise.all([loop(h.queue, 'w1'), loop(other, 'w2')]);
    const all = [...a, ...b];
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(total);
    expect((await other.counts()).leased).toBe(total);
  });
}
