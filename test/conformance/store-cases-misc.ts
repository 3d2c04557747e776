/**
 * @module test/conformance/store-cases-misc
 * Conformance cases: commits, workers, migrations, persistence and closing.
 */
import { expect } from 'vitest';

import { canonicalSha256 } from '../../src/core/hash.ts';
import type { WorkerRecord } from '../../src/store/worker-record.ts';
import { expectCode } from './queue-helpers.ts';
import { at, commitFixture, taskFixture } from './store-fixtures.ts';
import type { StoreCase } from './store-helpers.ts';

function workerFixture(id: string, over: Partial<WorkerRecord> = {}): WorkerRecord {
  return {
    id,
    host: 'gpu-box',
    runtime: 'podman',
    resources: { cpus: 16, memory_mb: 65_536, gpus: 2 },
    labels: ['gpu'],
    version: '0.1.0',
    last_seen_at: at(0),
    status: 'online',
    ...over,
  };
}

export function commitCases(it: StoreCase): void {
  it('putCommit is idempotent; getCommit and hasCommit read it back', async ({ store }) => {
    const { commitId, manifest } = commitFixture();
    expect(await store.hasCommit(commitId)).toBe(false);
    expect(await store.getCommit(commitId)).toBeNull();
    await store.putCommit(commitId, manifest);
    await store.putCommit(commitId, manifest);
    expect(await store.hasCommit(commitId)).toBe(true);
    expect(await store.getCommit(commitId)).toEqual(manifest);
  });

  it('commitBytes sums the file sizes of every stored commit, each counted once', async ({
    store,
  }) => {
    expect(await store.commitBytes()).toBe(0);
    const a = commitFixture('a');
    const b = commitFixture('b');
    await store.putCommit(a.commitId, a.manifest);
    await store.putCommit(a.commitId, a.manifest); // idempotent: not counted twice
    expect(await store.commitBytes()).toBe(5);
    await store.putCommit(b.commitId, b.manifest);
    expect(await store.commitBytes()).toBe(10);
    // Symlinks have no bytes of their own.
    const withLink = {
      version: 1 as const,
      entries: [
        ...a.manifest.entries,
        { path: 'zlink', type: 'symlink' as const, target: 'train.py' },
      ],
    };
    await store.putCommit(canonicalSha256(withLink), withLink);
    expect(await store.commitBytes()).toBe(15);
  });

  it('a commit id that is not the manifest digest is ML_ERR_VALIDATION', async ({ store }) => {
    const a = commitFixture('a');
    const b = commitFixture('b');
    await expectCode(store.putCommit(a.commitId, b.manifest), 'ML_ERR_VALIDATION');
    expect(await store.hasCommit(a.commitId)).toBe(false);
  });
}

export function workerCases(it: StoreCase): void {
  it('upsertWorker inserts then replaces; listWorkers is ordered by id', async ({ store }) => {
    expect(await store.listWorkers()).toEqual([]);
    await store.upsertWorker(workerFixture('w2'));
    await store.upsertWorker(workerFixture('w1'));
    const updated = workerFixture('w2', { status: 'draining', last_seen_at: at(5), labels: [] });
    await store.upsertWorker(updated);
    expect(await store.listWorkers()).toEqual([workerFixture('w1'), updated]);
  });

  it('an invalid worker is ML_ERR_VALIDATION', async ({ store }) => {
    const bad = { ...workerFixture('w1'), status: 'asleep' } as unknown as WorkerRecord;
    await expectCode(store.upsertWorker(bad), 'ML_ERR_VALIDATION');
    expect(await store.listWorkers()).toEqual([]);
  });
}

export function lifecycleCases(it: StoreCase): void {
  it('migrating again is a no-op that keeps data', async ({ store }) => {
    const { commitId, manifest } = commitFixture();
    await store.putCommit(commitId, manifest);
    await store.migrate();
    await store.migrate();
    expect(await store.hasCommit(commitId)).toBe(true);
  });

  it('data persists across close and reopen', async (h) => {
    const { commitId, manifest } = commitFixture();
    await h.store.putCommit(commitId, manifest);
    const task = taskFixture('task_1', commitId);
    await h.store.createTask(task);
    await h.store.markTaskRunning('task_1', { worker_id: 'w', attempt: 1, started_at: at(1) });
    await h.store.upsertWorker(workerFixture('w'));
    await h.store.close();
    const again = await h.reopen();
    await again.migrate();
    expect(await again.getCommit(commitId)).toEqual(manifest);
    expect((await again.getTask('task_1'))?.status).toBe('running');
    expect(await again.listWorkers()).toHaveLength(1);
  });

  it('a second connection sees writes at once', async (h) => {
    const other = await h.reopen();
    const { commitId, manifest } = commitFixture();
    await h.store.putCommit(commitId, manifest);
    await h.store.createTask(taskFixture('task_1', commitId));
    await other.setCancelRequested('task_1');
    expect((await h.store.getTask('task_1'))?.cancel_requested).toBe(true);
  });

  it('a closed store rejects calls with ML_ERR_UNAVAILABLE; close is idempotent', async (h) => {
    await h.store.close();
    await h.store.close();
    await expectCode(h.store.listWorkers(), 'ML_ERR_UNAVAILABLE');
  });
}
