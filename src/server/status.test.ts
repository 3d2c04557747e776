/**
 * `GET /v1/status` on a real server and real embedded backends: counts (with dead), workers with
 * what they hold and their phase, the relevant tasks, and every queued task's position and wait
 * reason; ownership narrowing; query validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StatusResponse } from '../core/schemas/status.ts';
import type { Task } from '../core/schemas/task.ts';
import type { WorkerRecord } from '../store/types.ts';
import { generateApiKey, hashApiKey } from './auth/api-keys.ts';
import { errorOf, sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
const project = sampleProject();
const keys: Record<string, { authorization: string }> = {};

beforeAll(async () => {
  t = await startTestServer();
  await t.deps.blobs.put(project.data, project.sha);
  await t.deps.store.putCommit(project.commitId, project.manifest);
  for (const user of ['ana', 'bob']) {
    const key = generateApiKey();
    await t.server.keys.add(hashApiKey(key, { user, role: 'researcher' }));
    keys[user] = { authorization: `Bearer ${key}` };
  }
});
afterAll(() => t.cleanup());

async function status(user?: string, query = ''): Promise<StatusResponse> {
  const res = await t.server.app.inject({
    method: 'GET',
    url: `/v1/status${query}`,
    headers: user ? keys[user] : t.auth,
  });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json<unknown>();
  // Every answer is a valid document of the published schema.
  const parsed = StatusResponse.safeParse(body);
  expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  return body as StatusResponse;
}

async function submit(
  user: string | null,
  over: { priority?: number; resources?: object } = {},
): Promise<Task> {
  const res = await t.server.app.inject({
    method: 'POST',
    url: '/v1/tasks',
    headers: user ? keys[user] : t.auth,
    payload: {
      commit_id: project.commitId,
      spec: sampleSpec,
      ...(over.priority !== undefined ? { priority: over.priority } : {}),
      ...(over.resources ? { resources: over.resources } : {}),
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<Task>();
}

const workerRecord = (id: string, over: Partial<WorkerRecord> = {}): WorkerRecord => ({
  id,
  host: 'box',
  runtime: 'sandbox',
  resources: { cpus: 4, memory_mb: 8192, gpus: 1 },
  labels: [],
  version: '0.1.0',
  last_seen_at: new Date().toISOString(),
  status: 'online',
  heartbeat_ms: 2000,
  concurrency: 4,
  ...over,
});

describe('GET /v1/status', () => {
  it('answers an empty store with zero counts, no workers and an empty queue', async () => {
    const s = await status();
    expect(s).toMatchObject({
      schema_version: 1,
      version: '0.1.0',
      counts: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0, dead: 0 },
      workers: [],
      tasks: [],
      recent: [],
      queue: { total: 0, tasks: [] },
    });
    expect(Object.values(s.queue.reasons).every((n) => n === 0)).toBe(true);
  });

  let big: Task;
  let first: Task;
  let second: Task;
  let urgent: Task;

  it('with no worker, every queued task waits for one, in claim order', async () => {
    first = await submit('ana');
    second = await submit('bob');
    big = await submit('ana', { resources: { gpus: 4 } });
    urgent = await submit('bob', { priority: 10 });
    const s = await status();
    expect(s.queue.total).toBe(4);
    expect(s.queue.tasks.map((q) => [q.task_id, q.position])).toEqual([
      [urgent.id, 1],
      [first.id, 2],
      [second.id, 3],
      [big.id, 4],
    ]);
    expect(s.queue.tasks.every((q) => q.reason.code === 'no_live_worker')).toBe(true);
    expect(s.queue.tasks[0]!.reason.message).toBe(
      'no worker is online: start one (`fetchml up` or `fetchml worker`)',
    );
    expect(s.queue.reasons.no_live_worker).toBe(4);
    expect(s.queue.tasks[0]).toMatchObject({ name: 'demo', user: 'bob', priority: 10, attempt: 0 });
  });

  it('explains each queued task against the live workers and what their running tasks hold', async () => {
    // One worker with 1 GPU; a task runs on it holding that GPU.
    await t.deps.store.upsertWorker(workerRecord('worker_a'));
    const runner = await submit(null, { priority: 100, resources: { gpus: 1 } });
    const claim = await t.deps.queue.claim({
      worker_id: 'worker_a',
      free: { cpus: 4, memory_mb: 8192, gpus: 1, labels: [] },
      lease_ms: 60_000,
    });
    expect(claim?.task_id).toBe(runner.id);
    await t.deps.store.markTaskRunning(runner.id, {
      worker_id: 'worker_a',
      attempt: 1,
      started_at: new Date().toISOString(),
    });
    // A silent worker (last heard 10 minutes ago) counts for nothing.
    await t.deps.store.upsertWorker(
      workerRecord('worker_z', {
        resources: { cpus: 64, memory_mb: 1 << 20, gpus: 8 },
        last_seen_at: new Date(Date.now() - 600_000).toISOString(),
      }),
    );

    const s = await status();
    const a = s.workers.find((w) => w.id === 'worker_a')!;
    expect(a).toMatchObject({
      live: true,
      phase: 'running',
      held: { cpus: 1, memory_mb: 1024, gpus: 1 },
      concurrency: 4,
      prewarm: null,
    });
    expect(s.workers.find((w) => w.id === 'worker_z')).toMatchObject({
      live: false,
      phase: 'offline',
    });
    expect(s.counts).toMatchObject({ queued: 4, running: 1 });
    // The relevant list starts with the running task, then the queue in claim order.
    expect(s.tasks.map((x) => x.id).slice(0, 5)).toEqual([
      runner.id,
      urgent.id,
      first.id,
      second.id,
      big.id,
    ]);
    const why = Object.fromEntries(s.queue.tasks.map((q) => [q.task_id, q.reason]));
    expect(why[urgent.id]).toMatchObject({ code: 'ready', workers: ['worker_a'] });
    expect(why[first.id]).toMatchObject({ code: 'ready' });
    expect(why[second.id]).toMatchObject({ code: 'ready' });
    expect(why[big.id]).toEqual({
      code: 'too_large',
      message:
        'it asks for 4 gpus (the most any worker has: 1): lower `resources` or add a bigger worker',
      short: [{ resource: 'gpus', need: 4, max: 1 }],
    });
    expect(s.queue.reasons).toMatchObject({ ready: 3, too_large: 1 });
  });

  it('a task ahead taking the room, or the room held by running tasks, is named as the reason', async () => {
    const gpuA = await submit('ana', { resources: { gpus: 1 } });
    let s = await status();
    const reason = (id: string) => s.queue.tasks.find((q) => q.task_id === id)!.reason;
    // worker_a's only GPU is held by the running task.
    expect(reason(gpuA.id)).toMatchObject({ code: 'workers_busy', workers: ['worker_a'] });

    // A second worker with one GPU and one slot: the earlier GPU task takes it (the CPU-only tasks
    // ahead go to worker_a, first by id), the later one waits behind it.
    await t.deps.store.upsertWorker(workerRecord('worker_b', { concurrency: 1 }));
    const gpuB = await submit('bob', { resources: { gpus: 1 } });
    s = await status();
    expect(s.queue.tasks.find((q) => q.task_id === urgent.id)!.reason.workers).toEqual([
      'worker_a',
    ]);
    expect(reason(gpuA.id)).toMatchObject({ code: 'ready', workers: ['worker_b'] });
    expect(reason(gpuB.id)).toEqual({
      code: 'earlier_task_ahead',
      message: `${gpuA.id}, queued earlier with the same priority, takes the room on worker_b first`,
      blocked_by: gpuA.id,
      workers: ['worker_b'],
    });

    // Raise gpuB above everyone: it is now first in line and names no blocker.
    await t.server.app.inject({
      method: 'POST',
      url: `/v1/tasks/${gpuB.id}/priority`,
      headers: t.auth,
      payload: { priority: 50 },
    });
    s = await status();
    expect(s.queue.tasks[0]).toMatchObject({ task_id: gpuB.id, position: 1 });
    expect(reason(gpuB.id)).toMatchObject({ code: 'ready', workers: ['worker_b'] });
    expect(reason(gpuA.id)).toMatchObject({
      code: 'higher_priority_ahead',
      blocked_by: gpuB.id,
    });
    expect(reason(gpuA.id).message).toBe(
      `${gpuB.id} (priority 50) is ahead and takes the room on worker_b`,
    );
  });

  it('a researcher sees only its own tasks, with global positions and no other user named', async () => {
    const all = await status();
    const s = await status('ana');
    expect(s.counts).toEqual(all.counts);
    expect(s.workers.map((w) => w.id)).toEqual(all.workers.map((w) => w.id));
    expect(s.queue.total).toBe(all.queue.total);
    expect(s.queue.tasks.length).toBeGreaterThan(0);
    expect(s.queue.tasks.every((q) => q.user === 'ana')).toBe(true);
    for (const q of s.queue.tasks) {
      expect(q.position).toBe(all.queue.tasks.find((x) => x.task_id === q.task_id)!.position);
      if (q.reason.code === 'higher_priority_ahead') {
        // bob's task blocks it: neither its id nor its name is sent to ana.
        expect(q.reason.blocked_by).toBeUndefined();
        expect(q.reason.message).toMatch(/^a task \(priority 50\)/);
      }
    }
    expect(s.tasks.every((x) => x.user === 'ana')).toBe(true);
    expect(s.recent.every((x) => x.user === 'ana')).toBe(true);
    const tally = Object.values(s.queue.reasons).reduce((n, v) => n + v, 0);
    expect(tally).toBe(s.queue.tasks.length);
  });

  it('counts dead tasks and lists recent failures before the queue', async () => {
    const doomed = await submit(null, { priority: 900 });
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: t.auth,
      payload: { commit_id: project.commitId, spec: sampleSpec, max_attempts: 1, priority: 1000 },
    });
    const dying = res.json<Task>();
    const claim = await t.deps.queue.claim({
      worker_id: 'worker_gone',
      free: { cpus: 64, memory_mb: 1 << 20, gpus: 0, labels: [] },
      lease_ms: 1,
    });
    expect(claim?.task_id).toBe(dying.id);
    await t.deps.store.markTaskRunning(dying.id, {
      worker_id: 'worker_gone',
      attempt: 1,
      started_at: new Date().toISOString(),
    });
    // Its worker stopped answering on its only attempt: what the server's reaper records.
    const reaped = await t.deps.queue.reapExpired(Date.now() + 5_000);
    expect(reaped).toEqual([{ task_id: dying.id, outcome: 'dead', attempt: 1 }]);
    await t.deps.store.finishTask(dying.id, {
      status: 'failed',
      exit_code: null,
      error: { code: 'ML_ERR_LEASE_LOST', message: 'its worker stopped answering' },
      ended_at: new Date().toISOString(),
    });
    const s = await status();
    expect(s.counts.dead).toBe(1);
    expect(s.counts.failed).toBeGreaterThanOrEqual(1);
    const ids = s.tasks.map((x) => x.id);
    // running first, then the failure, then the queue (doomed is first in line).
    expect(ids.indexOf(dying.id)).toBeLessThan(ids.indexOf(doomed.id));
    expect(s.tasks[0]!.status).toBe('running');
  });

  it('honours limit and queued, and refuses out-of-range values naming the field', async () => {
    const s = await status(undefined, '?limit=2&queued=1');
    expect(s.tasks).toHaveLength(2);
    expect(s.queue.tasks).toHaveLength(1);
    expect(s.queue.total).toBeGreaterThan(1);
    for (const [query, field] of [
      ['?limit=0', 'limit'],
      ['?limit=201', 'limit'],
      ['?queued=1001', 'queued'],
      ['?queued=lots', 'queued'],
      ['?nope=1', 'nope'],
    ] as const) {
      const res = await t.server.app.inject({
        method: 'GET',
        url: `/v1/status${query}`,
        headers: t.auth,
      });
      expect(res.statusCode, query).toBe(400);
      expect(errorOf(res).code).toBe('ML_ERR_VALIDATION');
      expect(errorOf(res).message).toContain(field);
    }
  });
});
