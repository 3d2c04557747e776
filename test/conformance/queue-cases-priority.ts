/**
 * @module test/conformance/queue-cases-priority
 * Conformance cases: changing the priority of a queued entry (`setPriority`), and its refusals.
 */
import { expect } from 'vitest';

import { drain, expectCode, job, worker } from './queue-helpers.ts';
import type { QueueCase } from './queue-helpers.ts';

export function priorityCases(it: QueueCase): void {
  it('setPriority reorders queued entries and returns the previous priority', async ({ queue }) => {
    await queue.enqueue(job('t1', { priority: 0 }));
    await queue.enqueue(job('t2', { priority: 5 }));
    await queue.enqueue(job('t3', { priority: 0 }));
    expect(await queue.setPriority('t3', 10)).toEqual({ previous: 0 });
    expect(await queue.get('t3')).toMatchObject({ state: 'queued', priority: 10 });
    expect(await drain(queue)).toEqual(['t3', 't2', 't1']);
  });

  it('setPriority keeps enqueue order among equal priorities', async ({ queue }) => {
    await queue.enqueue(job('t1', { priority: 3 }));
    await queue.enqueue(job('t2', { priority: 0 }));
    await queue.enqueue(job('t3', { priority: 3 }));
    await queue.setPriority('t2', 3);
    expect(await drain(queue)).toEqual(['t1', 't2', 't3']);
  });

  it('setPriority of a leased or finished entry is ML_ERR_TASK_STATE and changes nothing', async ({
    queue,
  }) => {
    await queue.enqueue(job('t1', { priority: 1 }));
    const claim = await queue.claim(worker());
    const leased = await expectCode(queue.setPriority('t1', 9), 'ML_ERR_TASK_STATE');
    expect(leased.message).toBe(
      'cannot change the priority of task t1: it is leased (allowed: queued)',
    );
    expect(await queue.get('t1')).toMatchObject({ state: 'leased', priority: 1 });
    await queue.complete('t1', claim!.lease_id);
    await expectCode(queue.setPriority('t1', 9), 'ML_ERR_TASK_STATE');
    expect(await queue.get('t1')).toMatchObject({ state: 'completed', priority: 1 });
  });

  it('setPriority of an unknown task is ML_ERR_TASK_NOT_FOUND', async ({ queue }) => {
    await expectCode(queue.setPriority('nope', 1), 'ML_ERR_TASK_NOT_FOUND');
  });

  it('setPriority refuses a non-integer priority with ML_ERR_VALIDATION', async ({ queue }) => {
    await queue.enqueue(job('t1', { priority: 2 }));
    const err = await expectCode(queue.setPriority('t1', 1.5), 'ML_ERR_VALIDATION');
    expect(err.message).toContain('priority');
    expect((await queue.get('t1'))?.priority).toBe(2);
  });

  it('a change made on one connection is seen by a claim on another', async (h) => {
    await h.queue.enqueue(job('t1', { priority: 0 }));
    await h.queue.enqueue(job('t2', { priority: 0 }));
    const other = await h.connect();
    await other.setPriority('t2', 1);
    expect((await h.queue.claim(worker()))?.task_id).toBe('t2');
  });
}
