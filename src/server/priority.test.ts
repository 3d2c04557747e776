/**
 * `POST /v1/tasks/:id/priority` on a real server (SQLite store and queue): the change reorders the
 * queue and the stored task; every refusal (bad body, running task, another user's task, a role
 * without the permission) names its code and changes nothing. Also the list route's `before` cursor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { SetPriorityResponse } from '../core/schemas/api.ts';
import type { Task } from '../core/schemas/task.ts';
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
  for (const [user, role] of [
    ['ana', 'researcher'],
    ['bob', 'researcher'],
    ['vic', 'viewer'],
  ] as const) {
    const key = generateApiKey();
    await t.server.keys.add(hashApiKey(key, { user, role }));
    keys[user] = { authorization: `Bearer ${key}` };
  }
});
afterAll(() => t.cleanup());

const inject = (user: string, method: 'GET' | 'POST', url: string, payload?: object) =>
  t.server.app.inject({ method, url, headers: keys[user] ?? t.auth, payload });

async function submit(user: string, priority = 0): Promise<Task> {
  const res = await inject(user, 'POST', '/v1/tasks', {
    commit_id: project.commitId,
    spec: sampleSpec,
    priority,
  });
  expect(res.statusCode).toBe(201);
  return res.json<Task>();
}

const setPriority = (user: string, id: string, body: object) =>
  inject(user, 'POST', `/v1/tasks/${id}/priority`, body);

async function unchanged(id: string, priority: number): Promise<void> {
  expect((await t.deps.store.getTask(id))?.priority).toBe(priority);
  expect((await t.deps.queue.get(id))?.priority).toBe(priority);
}

describe('POST /v1/tasks/:id/priority', () => {
  it('changes a queued task: the queue claims it first and the stored task says so', async () => {
    const a = await submit('admin', 0);
    const b = await submit('admin', 0);
    const res = await setPriority('admin', b.id, { priority: 50 });
    expect(res.statusCode).toBe(200);
    const body = res.json<SetPriorityResponse>();
    expect(body).toMatchObject({ task_id: b.id, previous: 0, priority: 50 });
    expect(body.task).toMatchObject({ id: b.id, status: 'queued', priority: 50 });
    await unchanged(b.id, 50);
    const claim = await t.deps.queue.claim({
      worker_id: 'w',
      free: { cpus: 64, memory_mb: 1 << 20, gpus: 8, labels: [] },
      lease_ms: 60_000,
    });
    expect(claim?.task_id).toBe(b.id);
    await t.deps.store.markTaskRunning(b.id, {
      worker_id: 'w',
      attempt: 1,
      started_at: new Date().toISOString(),
    });
    await unchanged(a.id, 0);
  });

  it('refuses a running task with 409 ML_ERR_TASK_STATE and changes nothing', async () => {
    const { tasks } = (await inject('admin', 'GET', '/v1/tasks?status=running')).json<{
      tasks: Task[];
    }>();
    const running = tasks[0]!;
    const res = await setPriority('admin', running.id, { priority: 1 });
    expect(res.statusCode).toBe(409);
    expect(errorOf(res)).toMatchObject({
      code: 'ML_ERR_TASK_STATE',
      message: `cannot change the priority of task ${running.id}: it is running (allowed: queued)`,
    });
    await unchanged(running.id, 50);
  });

  it('refuses a bad body with 400 ML_ERR_VALIDATION naming the field', async () => {
    const task = await submit('admin', 3);
    for (const body of [{}, { priority: 1.5 }, { priority: 5000 }, { priority: '7' }]) {
      const res = await setPriority('admin', task.id, body);
      expect(res.statusCode).toBe(400);
      expect(errorOf(res).code).toBe('ML_ERR_VALIDATION');
      expect(errorOf(res).message).toContain('priority');
    }
    await unchanged(task.id, 3);
  });

  it('an unknown task is 404 ML_ERR_TASK_NOT_FOUND', async () => {
    const id = 'task_01JD3Q3Z4X6V8W9Y0A1B2C3D4E';
    const res = await setPriority('admin', id, { priority: 1 });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res)).toMatchObject({
      code: 'ML_ERR_TASK_NOT_FOUND',
      message: `no such task: ${id}`,
    });
  });

  it("a researcher changes its own task; another user's answers like a missing one", async () => {
    const own = await submit('ana', 0);
    expect((await setPriority('ana', own.id, { priority: 9 })).statusCode).toBe(200);
    await unchanged(own.id, 9);
    const res = await setPriority('bob', own.id, { priority: 99 });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res)).toMatchObject({
      code: 'ML_ERR_TASK_NOT_FOUND',
      message: `no such task: ${own.id}`,
    });
    await unchanged(own.id, 9);
  });

  it('a viewer lacks tasks:priority: 403 ML_ERR_FORBIDDEN', async () => {
    const task = await submit('admin', 2);
    const res = await setPriority('vic', task.id, { priority: 9 });
    expect(res.statusCode).toBe(403);
    expect(errorOf(res)).toMatchObject({
      code: 'ML_ERR_FORBIDDEN',
      message: `role viewer lacks permission tasks:priority (POST /v1/tasks/:id/priority)`,
    });
    await unchanged(task.id, 2);
  });
});

describe('GET /v1/tasks?before=', () => {
  it('pages newest first without overlap; an unknown cursor is ML_ERR_VALIDATION', async () => {
    const all = (await inject('admin', 'GET', '/v1/tasks?limit=1000')).json<{ tasks: Task[] }>()
      .tasks;
    expect(all.length).toBeGreaterThan(4);
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const url = `/v1/tasks?limit=2${before ? `&before=${before}` : ''}`;
      const page = (await inject('admin', 'GET', url)).json<{ tasks: Task[] }>().tasks;
      if (page.length === 0) break;
      seen.push(...page.map((x) => x.id));
      before = page.at(-1)!.id;
    }
    expect(seen).toEqual(all.map((x) => x.id));
    const res = await inject('admin', 'GET', '/v1/tasks?before=task_nope');
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: 'ML_ERR_VALIDATION' });
  });
});
