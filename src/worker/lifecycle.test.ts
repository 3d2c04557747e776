import { readFile, stat } from 'node:fs/promises';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { taskFiles } from '../core/layout.ts';
import { lifecycleProblems, RunManifest } from '../core/schemas/manifest.ts';
import { ProcessRuntime } from '../runtime/index.ts';
import type { TestBackends } from './test-helpers.ts';
import {
  openTestBackends,
  submitProject,
  testWorker,
  waitFor,
  waitForStatus,
} from './test-helpers.ts';
import type { FetchmlWorker, WorkerEventMap } from './types.ts';

const runtime = new ProcessRuntime({ killGraceMs: 1000 });

let b: TestBackends;
const workers: FetchmlWorker[] = [];

beforeEach(async () => {
  b = await openTestBackends();
});
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop({ graceful: false });
  await b.cleanup();
});

function track(w: FetchmlWorker): FetchmlWorker {
  workers.push(w);
  return w;
}

async function readManifest(taskId: string): Promise<RunManifest> {
  const raw = JSON.parse(await readFile(taskFiles(b.home).manifestPath(taskId), 'utf8')) as unknown;
  return RunManifest.parse(raw);
}

/** What the server's reaper does: expired leases back to the queue, mirrored into the store. */
async function reap(): Promise<void> {
  for (const e of await b.queue.reapExpired()) {
    if (e.outcome === 'requeued') await b.store.markTaskQueued(e.task_id, { attempt: e.attempt });
  }
}

describe('worker lifecycle', () => {
  it('a worker whose lease was lost stops its run and records nothing; the next attempt wins', async () => {
    const task = await submitProject(b, {
      files: { 'run.sh': 'echo "attempt on $FETCHML_TASK_ID"\nsleep 1.5\necho finished\n' },
      spec: { name: 'lease', command: 'sh run.sh' },
    });
    // A heartbeats far too rarely for its lease: the lease expires before the first renewal.
    const stale = track(testWorker(b, runtime, { leaseMs: 300, heartbeatMs: 1000 }));
    const lost: WorkerEventMap['lease:lost'][] = [];
    const staleEnd: WorkerEventMap['task:finished'][] = [];
    stale.on('lease:lost', (e) => lost.push(e));
    stale.on('task:finished', (e) => staleEnd.push(e));
    await stale.start();
    await waitForStatus(b, task.id, ['running']);
    await new Promise((r) => setTimeout(r, 400));
    await reap();
    expect((await b.queue.get(task.id))?.state).toBe('queued');

    const fresh = track(testWorker(b, runtime));
    await fresh.start();
    await waitFor(
      () => Promise.resolve(staleEnd.length),
      (n) => n > 0,
    );
    expect(lost).toEqual([{ task_id: task.id, attempt: 1 }]);
    expect(staleEnd[0]?.outcome).toBe('lease_lost');

    const done = await waitForStatus(b, task.id, ['completed', 'failed']);
    expect(done).toMatchObject({ status: 'completed', attempt: 2, worker_id: fresh.id });
    const m = await readManifest(task.id);
    expect(m).toMatchObject({ status: 'completed', attempt: 2 });
    expect(m.worker.id).toBe(fresh.id);
    expect(lifecycleProblems(m)).toEqual([]);
    const log = await readFile(taskFiles(b.home).logPath(task.id), 'utf8');
    expect(log).toContain(`--- attempt 1 on worker ${stale.id} ---`);
    expect(log).toContain(`--- attempt 2 on worker ${fresh.id} ---`);
    expect(log).toContain('lease lost; another attempt owns this task now');
    // The stale attempt was stopped, not run to its end: only attempt 2 printed "finished".
    expect(log.match(/^finished$/gm)).toHaveLength(1);
  });

  it('graceful stop re-queues the running task; another worker then completes it', async () => {
    const task = await submitProject(b, {
      files: { 'run.sh': 'echo working\necho half > "$FETCHML_OUTPUT/half.txt"\nsleep 1\n' },
      spec: { name: 'requeue', command: 'sh run.sh' },
    });
    const first = track(testWorker(b, runtime));
    const ends: WorkerEventMap['task:finished'][] = [];
    first.on('task:finished', (e) => ends.push(e));
    await first.start();
    await waitForStatus(b, task.id, ['running']);
    const manifestPath = taskFiles(b.home).manifestPath(task.id);
    await waitFor(
      () =>
        stat(manifestPath).then(
          () => true,
          () => false,
        ),
      (ok) => ok,
    );
    expect((await readManifest(task.id)).status).toBe('running');

    await first.stop({ graceful: true, timeoutMs: 5000 });
    expect(first.state).toBe('stopped');
    expect(ends.map((e) => e.outcome)).toEqual(['requeued']);
    const queued = await b.store.getTask(task.id);
    expect(queued).toMatchObject({ status: 'queued', attempt: 0, worker_id: null });
    expect((await b.queue.get(task.id))?.state).toBe('queued');
    await expect(stat(manifestPath)).rejects.toThrow(); // nothing half-written is left
    const log = await readFile(taskFiles(b.home).logPath(task.id), 'utf8');
    expect(log).toContain('[fetchml] worker shutting down; task re-queued');
    const record = (await b.store.listWorkers()).find((w) => w.id === first.id);
    expect(record?.status).toBe('offline');
    await first.stop(); // idempotent

    const second = track(testWorker(b, runtime));
    await second.start();
    const done = await waitForStatus(b, task.id, ['completed', 'failed']);
    expect(done).toMatchObject({ status: 'completed', attempt: 1, worker_id: second.id });
    const m = await readManifest(task.id);
    expect(m.artifacts.map((a) => a.path)).toEqual(['half.txt']);
    expect(lifecycleProblems(m)).toEqual([]);
  });

  it('a second stop does not wait for a job that ignores SIGTERM', async () => {
    const task = await submitProject(b, {
      files: { 'run.sh': "trap '' TERM\necho stubborn\nsleep 3\n" },
      spec: { name: 'stubborn', command: 'sh run.sh' },
    });
    const w = track(testWorker(b, runtime));
    await w.start();
    await waitForStatus(b, task.id, ['running']);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const first = w.stop({ graceful: true, timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 100));
    await w.stop(); // forces
    await first;
    expect(Date.now() - t0).toBeLessThan(800);
    expect(w.state).toBe('stopped');
    // The attempt still ends cleanly in the background once the runtime's SIGKILL lands.
    const queued = await waitForStatus(b, task.id, ['queued'], 5000);
    expect(queued.worker_id).toBeNull();
  });

  it('claims only tasks that fit its free resources', async () => {
    const big = await submitProject(b, {
      files: { 'run.sh': 'echo big\n' },
      spec: { name: 'big', command: 'sh run.sh', resources: { cpus: 4 } },
      priority: 10,
    });
    const small = await submitProject(b, {
      files: { 'run.sh': 'echo small\n' },
      spec: { name: 'small', command: 'sh run.sh', resources: { cpus: 1 } },
    });
    const w = track(testWorker(b, runtime));
    await w.start();
    await waitForStatus(b, small.id, ['completed']);
    await new Promise((r) => setTimeout(r, 200));
    expect((await b.store.getTask(big.id))?.status).toBe('queued');
    expect((await b.queue.get(big.id))?.attempt).toBe(0);
  });

  it('with concurrency 2 runs two tasks at once', async () => {
    const ids = [];
    for (const name of ['one', 'two', 'three']) {
      const t = await submitProject(b, {
        files: { 'run.sh': `echo ${name}\nsleep 0.6\n` },
        spec: { name, command: 'sh run.sh', resources: { cpus: 1 } },
      });
      ids.push(t.id);
    }
    const w = track(testWorker(b, runtime, { concurrency: 2 }));
    let live = 0;
    let peak = 0;
    w.on('task:started', () => {
      live++;
      peak = Math.max(peak, live);
    });
    w.on('task:finished', () => live--);
    await w.start();
    await waitFor(
      () => Promise.resolve(w.running().length),
      (n) => n === 2,
    );
    for (const id of ids) await waitForStatus(b, id, ['completed']);
    expect(peak).toBe(2);
  });
});
