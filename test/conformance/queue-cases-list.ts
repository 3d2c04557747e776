/**
 * @module test/conformance/queue-cases-list
 * Conformance cases: `listQueued` — the queued entries in claim order, which `GET /v1/status`
 * turns into each queued task's position.
 */
import { expect } from 'vitest';

import { drain, expectCode, job, worker } from './queue-helpers.ts';
import type { QueueCase } from './queue-helpers.ts';

export function listCases(it: QueueCase): void {
  it('listQueued is empty for an empty queue', async ({ queue }) => {
    expect(await queue.listQueued()).toEqual([]);
  });

  it('listQueued returns queued entries in claim order: priority, then enqueue order', async ({
    queue,
  }) => {
    await queue.enqueue(job('t1', { priority: 0 }));
    await queue.enqueue(job('t2', { priority: 5, labels: ['gpu'] }));
    await queue.enqueue(job('t3', { priority: 0, resources: { cpus: 2, memory_mb: 64, gpus: 1 } }));
    await queue.enqueue(job('t4', { priority: 5 }));
    const listed = await queue.listQueued();
    expect(listed.map((e) => e.task_id)).toEqual(['t2', 't4', 't1', 't3']);
    expect(listed[0]).toMatchObject({ state: 'queued', priority: 5, labels: ['gpu'], attempt: 0 });
    expect(listed[3]).toMatchObject({ resources: { cpus: 2, memory_mb: 64, gpus: 1 } });
    // The order is the one claims follow.
    expect(await drain(queue, worker('w', { labels: ['gpu'] }))).toEqual(['t2', 't4', 't1', 't3']);
  });

  it('listQueued leaves out leased and finished entries and honours the limit', async ({
    queue,
  }) => {
    for (const id of ['t1', 't2', 't3', 't4']) await queue.enqueue(job(id));
    const claim = await queue.claim(worker());
    expect(claim?.task_id).toBe('t1');
    await queue.cancel('t2');
    expect((await queue.listQueued()).map((e) => e.task_id)).toEqual(['t3', 't4']);
    expect((await queue.listQueued(1)).map((e) => e.task_id)).toEqual(['t3']);
    // A released entry is queued again, in its enqueue place.
    await queue.release('t1', claim!.lease_id);
    expect((await queue.listQueued()).map((e) => e.task_id)).toEqual(['t1', 't3', 't4']);
  });

  it('listQueued follows a priority change', async ({ queue }) => {
    await queue.enqueue(job('t1'));
    await queue.enqueue(job('t2'));
    await queue.setPriority('t2', 1);
    expect((await queue.listQueued()).map((e) => e.task_id)).toEqual(['t2', 't1']);
  });

  it('listQueued refuses a limit below 1 with ML_ERR_VALIDATION', async ({ queue }) => {
    const err = await expectCode(queue.listQueued(0), 'ML_ERR_VALIDATION');
    expect(err.message).toContain('limit');
  });
}
