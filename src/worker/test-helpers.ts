/**
 * @module worker/test-helpers
 * Real embedded backends in a temp base dir (re-exported from worker/test-backends.ts) and a way
 * to submit a project as a task the way the server does (snapshot → blobs → commit → plan → task
 * → queue), for the worker's tests and for server / e2e tests that need a worker. No
 * test-framework imports, so it type-checks like any module. Not part of the runtime API.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { newId } from '../core/ids.ts';
import { newQueuedTask } from '../core/new-task.ts';
import { resolvePlan } from '../core/plan.ts';
import type { ExperimentSpecInput } from '../core/schemas/spec.ts';
import { ExperimentSpec } from '../core/schemas/spec.ts';
import type { Task } from '../core/schemas/task.ts';
import type { Runtime } from '../runtime/types.ts';
import { snapshotTree } from '../snapshot/index.ts';
import { createWorker } from './index.ts';
import type { TestBackends } from './test-backends.ts';
import type { FetchmlWorker, WorkerDeps, WorkerOptions } from './types.ts';

export { openTestBackends } from './test-backends.ts';
export type { TestBackends } from './test-backends.ts';

/** What {@link submitProject} needs. */
export interface SubmitInput {
  /** Files of the project (path → content); `.sh` files are made executable. */
  files: Record<string, string>;
  spec: ExperimentSpecInput;
  args?: string[];
  priority?: number;
  maxAttempts?: number;
  resources?: Partial<Task['resources']>;
  timeoutS?: number | null;
}

/**
 * Writes `files` into a temp project dir, snapshots it, stores its blobs and commit, resolves the
 * plan (relaxed policy, so tests can use unpinned specs) and creates + enqueues the task.
 */
export async function submitProject(b: TestBackends, input: SubmitInput): Promise<Task> {
  const dir = await mkdtemp(join(tmpdir(), 'fetchml-project-'));
  try {
    for (const [path, content] of Object.entries(input.files)) {
      const abs = join(dir, path);
      await mkdir(dirname(abs), { recursive: true });
      await writeFile(abs, content);
      if (path.endsWith('.sh')) await chmod(abs, 0o755);
    }
    const snap = await snapshotTree(dir, { statCache: false, workers: 0 });
    for (const e of snap.manifest.entries) {
      if (e.type === 'file') await b.blobs.put(await readFile(join(dir, e.path)), e.sha256);
    }
    await b.store.putCommit(snap.commitId, snap.manifest);
    const spec = ExperimentSpec.parse(input.spec);
    const resolved = resolvePlan({
      commitId: snap.commitId,
      manifest: snap.manifest,
      spec,
      args: input.args ?? [],
      policy: 'relaxed',
      ...(input.resources ? { resources: input.resources } : {}),
      ...(input.timeoutS !== undefined ? { timeoutS: input.timeoutS } : {}),
    });
    const task = newQueuedTask({
      id: newId('task'),
      user: 'tester',
      commitId: snap.commitId,
      spec,
      resolved,
      priority: input.priority,
      maxAttempts: input.maxAttempts ?? 3,
      now: new Date().toISOString(),
    });
    await b.store.createTask(task);
    await b.queue.enqueue({
      task_id: task.id,
      priority: task.priority,
      resources: task.resources,
      labels: task.labels,
      max_attempts: task.max_attempts,
      image: task.plan.image.base,
    });
    return task;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A worker on `b` with fast test timings; `over` wins. */
export function testWorker(
  b: TestBackends,
  runtime: Runtime,
  over: Partial<WorkerOptions> = {},
  extraDeps: Pick<WorkerDeps, 'hostRuntime'> = {},
): FetchmlWorker {
  return createWorker(
    {
      id: newId('worker'),
      home: b.home,
      resources: { cpus: 2, memory_mb: 4096, gpus: 0, labels: [] },
      leaseMs: 5_000,
      heartbeatMs: 100,
      pollMs: 50,
      concurrency: 1,
      version: '0.0.0-test',
      host: hostname(),
      ...over,
    },
    { store: b.store, queue: b.queue, blobs: b.blobs, events: b.events, runtime, ...extraDeps },
  );
}

/** Polls `read` every 20 ms until `done(value)`; rejects after `timeoutMs`. */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until)
      throw new Error(`waitFor: timed out; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until the task reaches one of `statuses` in the store. */
export function waitForStatus(
  b: TestBackends,
  taskId: string,
  statuses: readonly Task['status'][],
  timeoutMs?: number,
): Promise<Task> {
  return waitFor(
    async () => (await b.store.getTask(taskId)) as Task,
    (t) => statuses.includes(t.status),
    timeoutMs,
  );
}
