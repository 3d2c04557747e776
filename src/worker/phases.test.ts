/**
 * What a worker reports about itself while it works (worker/phases): its phase and its attempts'
 * phases in its store record, refreshed at each change, and the `task:phase` events. A real worker
 * on the process runtime runs a job that waits for a file, so nothing depends on timing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ProcessRuntime } from '../runtime/index.ts';
import type { WorkerRecord } from '../store/types.ts';
import { enteredQueueAt, workerPhase } from './phases.ts';
import type { TestBackends } from './test-helpers.ts';
import {
  openTestBackends,
  submitProject,
  testWorker,
  waitFor,
  waitForStatus,
} from './test-helpers.ts';
import type { FetchmlWorker, WorkerEventMap } from './types.ts';

describe('workerPhase', () => {
  const at = '2026-01-01T00:00:00.000Z';
  it('is draining while stopping, else running, staging or idle by its attempts', () => {
    expect(workerPhase([], false)).toBe('idle');
    expect(workerPhase([], true)).toBe('draining');
    const staging = { task_id: 'a', attempt: 1, phase: 'staging' as const, since: at };
    const running = { task_id: 'b', attempt: 1, phase: 'running' as const, since: at };
    const finishing = { task_id: 'c', attempt: 2, phase: 'finishing' as const, since: at };
    expect(workerPhase([staging], false)).toBe('staging');
    expect(workerPhase([staging, running], false)).toBe('running');
    expect(workerPhase([finishing], false)).toBe('running');
    expect(workerPhase([running], true)).toBe('draining');
  });

  it('an attempt entered the queue at submission, a retry at its requeue', () => {
    const task = { queued_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:05:00.000Z' };
    expect(enteredQueueAt(task, 1)).toBe(Date.parse(task.queued_at));
    expect(enteredQueueAt(task, 2)).toBe(Date.parse(task.updated_at));
  });
});

describe('a working worker reports its phase', () => {
  const runtime = new ProcessRuntime({ killGraceMs: 1000 });
  let b: TestBackends;
  let dir: string;
  let worker: FetchmlWorker | null = null;

  beforeEach(async () => {
    b = await openTestBackends();
    dir = await mkdtemp(join(tmpdir(), 'fetchml-phases-'));
  });
  afterEach(async () => {
    await worker?.stop({ graceful: false });
    worker = null;
    await b.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const record = async (id: string): Promise<WorkerRecord | undefined> =>
    (await b.store.listWorkers()).find((w) => w.id === id);

  it('idle → running with the attempt → idle; offline after stop; task:phase events in order', async () => {
    const go = join(dir, 'go');
    const task = await submitProject(b, {
      files: { 'run.sh': 'while [ ! -f "$1" ]; do sleep 0.05; done\necho done\n' },
      spec: { name: 'phases', command: 'sh run.sh' },
      args: [go],
    });
    worker = testWorker(b, runtime, { concurrency: 2, heartbeatMs: 60_000 });
    const events: WorkerEventMap['task:phase'][] = [];
    worker.on('task:phase', (e) => events.push(e));
    await worker.start();
    const id = worker.id;

    // The heartbeat is a minute away: what status sees comes from the refresh at each change.
    const running = await waitFor(
      () => record(id),
      (w) => w?.phase === 'running',
    );
    expect(running).toMatchObject({
      status: 'online',
      phase: 'running',
      heartbeat_ms: 60_000,
      concurrency: 2,
      prewarm: null,
      tasks: [{ task_id: task.id, attempt: 1, phase: 'running' }],
    });
    expect(events).toEqual([
      expect.objectContaining({
        task_id: task.id,
        attempt: 1,
        phase: 'running',
        entered_queue_at: Date.parse(task.queued_at),
      }),
    ]);

    await writeFile(go, '');
    await waitForStatus(b, task.id, ['completed']);
    const idle = await waitFor(
      () => record(id),
      (w) => w?.phase === 'idle',
    );
    expect(idle?.tasks).toEqual([]);
    expect(events.map((e) => e.phase)).toEqual(['running', 'finishing']);

    await worker.stop();
    expect(await record(id)).toMatchObject({ status: 'offline', phase: 'offline', tasks: [] });
  });
});
