/**
 * @module test/conformance/store-cases-transitions
 * Conformance cases: task transitions and their preconditions.
 */
import { expect } from 'vitest';

import type { FinishTask, MetadataStore } from '../../src/store/types.ts';
import { expectCode } from './queue-helpers.ts';
import { at, commitFixture, taskFixture } from './store-fixtures.ts';
import type { StoreCase } from './store-helpers.ts';

async function seed(store: MetadataStore, ...ids: string[]): Promise<void> {
  const { commitId, manifest } = commitFixture();
  await store.putCommit(commitId, manifest);
  for (const id of ids) await store.createTask(taskFixture(id, commitId));
}

const done = { status: 'completed', exit_code: 0, error: null, ended_at: at(9) } as const;

export function transitionCases(it: StoreCase): void {
  it('markTaskRunning: queued → running with worker, attempt and start time', async ({ store }) => {
    await seed(store, 'task_1');
    const task = await store.markTaskRunning('task_1', {
      worker_id: 'w1',
      attempt: 1,
      started_at: at(1),
    });
    expect(task).toMatchObject({
      status: 'running',
      worker_id: 'w1',
      attempt: 1,
      started_at: at(1),
      updated_at: at(1),
    });
    expect(await store.getTask('task_1')).toEqual(task);
    expect((await store.listTasks({ limit: 5, status: ['running'] })).map((t) => t.id)).toEqual([
      'task_1',
    ]);
  });

  it('markTaskRunning from running needs a newer attempt', async ({ store }) => {
    await seed(store, 'task_1');
    await store.markTaskRunning('task_1', { worker_id: 'w1', attempt: 1, started_at: at(1) });
    const err = await expectCode(
      store.markTaskRunning('task_1', { worker_id: 'w2', attempt: 1, started_at: at(2) }),
      'ML_ERR_TASK_STATE',
    );
    expect(err.details).toMatchObject({ task_id: 'task_1', status: 'running' });
    const newer = await store.markTaskRunning('task_1', {
      worker_id: 'w2',
      attempt: 2,
      started_at: at(3),
    });
    expect(newer).toMatchObject({ worker_id: 'w2', attempt: 2, started_at: at(3) });
  });

  it('markTaskQueued: running → queued clears worker and start time', async ({ store }) => {
    await seed(store, 'task_1');
    await store.markTaskRunning('task_1', { worker_id: 'w1', attempt: 1, started_at: at(1) });
    const task = await store.markTaskQueued('task_1', { attempt: 1, at: at(2) });
    expect(task).toMatchObject({
      status: 'queued',
      worker_id: null,
      started_at: null,
      attempt: 1,
      updated_at: at(2),
    });
    expect((await store.getTask('task_1'))?.status).toBe('queued');
  });

  it('finishTask from queued or running; never twice', async ({ store }) => {
    await seed(store, 'task_1', 'task_2');
    await store.markTaskRunning('task_1', { worker_id: 'w1', attempt: 1, started_at: at(1) });
    const failed = await store.finishTask('task_1', {
      status: 'failed',
      exit_code: 137,
      error: { code: 'ML_ERR_OOM', message: 'killed' },
      ended_at: at(5),
    });
    expect(failed).toMatchObject({
      status: 'failed',
      exit_code: 137,
      error: { code: 'ML_ERR_OOM', message: 'killed' },
      ended_at: at(5),
      worker_id: 'w1',
    });
    expect(await store.getTask('task_1')).toEqual(failed);
    const cancelled = await store.finishTask('task_2', { ...done, status: 'cancelled' });
    expect(cancelled.status).toBe('cancelled');
    for (const id of ['task_1', 'task_2']) {
      await expectCode(store.finishTask(id, done), 'ML_ERR_TASK_STATE');
      await expectCode(
        store.markTaskRunning(id, { worker_id: 'w', attempt: 5, started_at: at(6) }),
        'ML_ERR_TASK_STATE',
      );
      await expectCode(store.markTaskQueued(id, { attempt: 1 }), 'ML_ERR_TASK_STATE');
      await expectCode(store.setCancelRequested(id), 'ML_ERR_TASK_STATE');
    }
    expect((await store.getTask('task_1'))?.status).toBe('failed');
  });

  it('setCancelRequested on a live task is idempotent', async ({ store }) => {
    await seed(store, 'task_1');
    expect((await store.setCancelRequested('task_1')).cancel_requested).toBe(true);
    expect((await store.setCancelRequested('task_1')).cancel_requested).toBe(true);
    const task = await store.getTask('task_1');
    expect(task).toMatchObject({ cancel_requested: true, status: 'queued' });
  });

  it('setTaskPriority on a queued task records it (document and list order unchanged)', async ({
    store,
  }) => {
    await seed(store, 'task_1');
    const task = await store.setTaskPriority('task_1', 7);
    expect(task).toMatchObject({ id: 'task_1', status: 'queued', priority: 7 });
    expect(await store.getTask('task_1')).toEqual(task);
    expect(JSON.parse((await store.getTaskJson('task_1'))!)).toMatchObject({ priority: 7 });
  });

  it('setTaskPriority refuses running and finished tasks and non-integers', async ({ store }) => {
    await seed(store, 'task_1');
    await store.markTaskRunning('task_1', { worker_id: 'w1', attempt: 1, started_at: at(1) });
    const err = await expectCode(store.setTaskPriority('task_1', 3), 'ML_ERR_TASK_STATE');
    expect(err.message).toBe(
      'cannot change the priority of task task_1: it is running (allowed: queued)',
    );
    await store.finishTask('task_1', done);
    await expectCode(store.setTaskPriority('task_1', 3), 'ML_ERR_TASK_STATE');
    await expectCode(store.setTaskPriority('task_1', 0.5), 'ML_ERR_VALIDATION');
    await expectCode(store.setTaskPriority('task_nope', 1), 'ML_ERR_TASK_NOT_FOUND');
    expect((await store.getTask('task_1'))?.priority).toBe(0);
  });

  it('transitions of an unknown task are ML_ERR_TASK_NOT_FOUND', async ({ store }) => {
    await seed(store);
    const id = 'task_nope';
    await expectCode(
      store.markTaskRunning(id, { worker_id: 'w', attempt: 1, started_at: at(1) }),
      'ML_ERR_TASK_NOT_FOUND',
    );
    await expectCode(store.markTaskQueued(id, { attempt: 0 }), 'ML_ERR_TASK_NOT_FOUND');
    await expectCode(store.finishTask(id, done), 'ML_ERR_TASK_NOT_FOUND');
    await expectCode(store.setCancelRequested(id), 'ML_ERR_TASK_NOT_FOUND');
  });

  it('invalid transition input is ML_ERR_VALIDATION', async ({ store }) => {
    await seed(store, 'task_1');
    await expectCode(
      store.markTaskRunning('task_1', { worker_id: 'w', attempt: 0, started_at: 'yesterday' }),
      'ML_ERR_VALIDATION',
    );
    await expectCode(
      store.finishTask('task_1', { ...done, status: 'running' } as unknown as FinishTask),
      'ML_ERR_VALIDATION',
    );
    expect((await store.getTask('task_1'))?.status).toBe('queued');
  });
}
