/**
 * @module test/conformance/store-cases-tasks
 * Conformance cases: creating, reading, listing and counting tasks.
 */
import { expect } from 'vitest';

import type { Task } from '../../src/core/schemas/task.ts';
import { expectCode } from './queue-helpers.ts';
import { at, commitFixture, taskFixture } from './store-fixtures.ts';
import type { StoreCase } from './store-helpers.ts';

export function taskCases(it: StoreCase): void {
  it('createTask then getTask returns the same task', async ({ store }) => {
    const { commitId, manifest } = commitFixture();
    await store.putCommit(commitId, manifest);
    const task = taskFixture('task_1', commitId, { priority: 7, user: 'bob' });
    await store.createTask(task);
    expect(await store.getTask('task_1')).toEqual(task);
    expect(await store.getTask('task_nope')).toBeNull();
  });

  it('a duplicate id is ML_ERR_CONFLICT', async ({ store }) => {
    const { commitId, manifest } = commitFixture();
    await store.putCommit(commitId, manifest);
    await store.createTask(taskFixture('task_1', commitId));
    await expectCode(
      store.createTask(taskFixture('task_1', commitId, { user: 'eve' })),
      'ML_ERR_CONFLICT',
    );
    expect((await store.getTask('task_1'))?.user).toBe('alice');
  });

  it('a task whose commit is not stored is ML_ERR_COMMIT_NOT_FOUND', async ({ store }) => {
    const { commitId } = commitFixture();
    await expectCode(store.createTask(taskFixture('task_1', commitId)), 'ML_ERR_COMMIT_NOT_FOUND');
    expect(await store.getTask('task_1')).toBeNull();
  });

  it('an invalid task is ML_ERR_VALIDATION', async ({ store }) => {
    const { commitId, manifest } = commitFixture();
    await store.putCommit(commitId, manifest);
    const bad = { ...taskFixture('task_1', commitId), status: 'sleeping' } as unknown as Task;
    await expectCode(store.createTask(bad), 'ML_ERR_VALIDATION');
  });

  it('listTasks is newest first, filters by status, user and name', async ({ store }) => {
    const { commitId, manifest } = commitFixture();
    await store.putCommit(commitId, manifest);
    const specs = [
      { id: 'task_a', user: 'alice', name: 'mnist', created_at: at(1) },
      { id: 'task_b', user: 'bob', name: 'mnist', created_at: at(3) },
      { id: 'task_c', user: 'alice', name: 'cifar', created_at: at(2) },
      // An offset time: 00:04 UTC, newest although its text sorts first.
      { id: 'task_d', user: 'bob', name: 'cifar', created_at: '2030-01-01T01:04:00+01:00' },
    ];
    for (const s of specs) await store.createTask(taskFixture(s.id, commitId, s));
    await store.finishTask('task_b', {
      status: 'completed',
      exit_code: 0,
      error: null,
      ended_at: at(10),
    });
    const ids = async (q: Parameters<typeof store.listTasks>[0]) =>
      (await store.listTasks(q)).map((t) => t.id);
    expect(await ids({ limit: 10 })).toEqual(['task_d', 'task_b', 'task_c', 'task_a']);
    expect(await ids({ limit: 10, user: 'alice' })).toEqual(['task_c', 'task_a']);
    expect(await ids({ limit: 10, name: 'cifar' })).toEqual(['task_d', 'task_c']);
    expect(await ids({ limit: 10, status: ['completed'] })).toEqual(['task_b']);
    expect(await ids({ limit: 10, status: ['queued', 'completed'], user: 'bob' })).toEqual([
      'task_d',
      'task_b',
    ]);
    expect(await ids({ limit: 10, status: [] })).toHaveLength(4);
    expect(await ids({ limit: 10, user: 'nobody' })).toEqual([]);
  });

  it('listTasks pages with beforeId, stable with equal times', async ({ store }) => {
    const { commitId, manifest } = commitFixture();
    await store.putCommit(commitId, manifest);
    const created: string[] = [];
    for (let i = 0; i < 23; i++) {
      const id = `task_${String(i).padStart(2, '0')}`;
      created.push(id);
      // Groups of three share a timestamp.
      await store.createTask(taskFixture(id, commitId, { created_at: at(Math.floor(i / 3)) }));
    }
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.listTasks({ limit: 5, ...(before ? { beforeId: before } : {}) });
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(5);
      seen.push(...page.map((t) => t.id));
      before = page.at(-1)!.id;
    }
    expect(seen).toEqual([...created].reverse());
    await expectCode(store.listTasks({ limit: 5, beforeId: 'task_nope' }), 'ML_ERR_VALIDATION');
    await expectCode(store.listTasks({ limit: 0 }), 'ML_ERR_VALIDATION');
    await expectCode(store.listTasks({ limit: 100_000 }), 'ML_ERR_VALIDATION');
  });

  it('countTasksByStatus has every status', async ({ store }) => {
    const { commitId, manifest } = commitFixture();
    await store.putCommit(commitId, manifest);
    expect(await store.countTasksByStatus()).toEqual({
      queued: 0,
      running: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
    });
    for (const id of ['task_1', 'task_2', 'task_3']) {
      await store.createTask(taskFixture(id, commitId));
    }
    await store.markTaskRunning('task_1', { worker_id: 'w', attempt: 1, started_at: at(1) });
    await store.finishTask('task_2', {
      status: 'cancelled',
      exit_code: null,
      error: null,
      ended_at: at(1),
    });
    expect(await store.countTasksByStatus()).toEqual({
      queued: 1,
      running: 1,
      completed: 0,
      failed: 0,
      cancelled: 1,
    });
  });

  it('a corrupt row is ML_ERR_STORE_CORRUPT naming the task', async (h) => {
    const { commitId, manifest } = commitFixture();
    await h.store.putCommit(commitId, manifest);
    await h.store.createTask(taskFixture('task_bad', commitId));
    await h.store.createTask(taskFixture('task_bad2', commitId));
    await h.corruptTask('task_bad', '{not json');
    const err = await expectCode(h.store.getTask('task_bad'), 'ML_ERR_STORE_CORRUPT');
    await expectCode(h.store.getTaskJson('task_bad'), 'ML_ERR_STORE_CORRUPT');
    expect(err.message).toContain('task_bad');
    expect(err.details).toMatchObject({ task_id: 'task_bad' });
    await expectCode(h.store.listTasks({ limit: 10 }), 'ML_ERR_STORE_CORRUPT');

    const valid = taskFixture('task_bad2', commitId);
    // Read (and validate) it first: a remembered validation must not hide a later corruption.
    expect(await h.store.getTask('task_bad2')).toMatchObject({ id: 'task_bad2' });
    expect(JSON.parse((await h.store.getTaskJson('task_bad2'))!)).toMatchObject({
      id: 'task_bad2',
    });
    await h.corruptTask('task_bad2', JSON.stringify({ ...valid, attempt: -1 }));
    const err2 = await expectCode(h.store.getTask('task_bad2'), 'ML_ERR_STORE_CORRUPT');
    await expectCode(h.store.getTaskJson('task_bad2'), 'ML_ERR_STORE_CORRUPT');
    expect(err2.message).toContain('task_bad2');
    expect(err2.message).toContain('attempt');
  });
}
