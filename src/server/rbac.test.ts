import type WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PERMISSIONS } from '../auth/roles.ts';
import type { WsServerMessage } from '../core/schemas/api.ts';
import type { Task } from '../core/schemas/task.ts';
import { generateApiKey, hashApiKey } from './auth/api-keys.ts';
import { errorOf, sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
const project = sampleProject();
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const keys: Record<string, { authorization: string }> = {};

async function addKey(user: string, role: string): Promise<void> {
  const key = generateApiKey();
  await t.server.keys.add(hashApiKey(key, { user, role }));
  keys[user] = bearer(key);
}

beforeAll(async () => {
  t = await startTestServer();
  await t.deps.blobs.put(project.data, project.sha);
  await t.deps.store.putCommit(project.commitId, project.manifest);
  await addKey('ana', 'researcher');
  await addKey('bob', 'researcher');
  await addKey('vic', 'viewer');
});
afterAll(() => t.cleanup());

const inject = (user: string, method: 'GET' | 'POST', url: string, payload?: object) =>
  t.server.app.inject({ method, url, headers: keys[user] ?? t.auth, payload });

async function submit(user: string): Promise<Task> {
  const res = await inject(user, 'POST', '/v1/tasks', {
    commit_id: project.commitId,
    spec: sampleSpec,
  });
  expect(res.statusCode).toBe(201);
  return res.json<Task>();
}

describe('every route declares a permission', () => {
  it('walks every registered route: only the health probes are public, all others name a known permission', () => {
    const routes = t.server.routes;
    expect(routes.length).toBeGreaterThan(15);
    expect(routes.filter((r) => r.method === 'GET' && r.public).map((r) => r.url)).toEqual([
      '/healthz',
      '/readyz',
    ]);
    expect(routes.find((r) => r.url === '/metrics')?.permission).toBe('metrics:read');
    for (const r of routes) {
      if (r.public) {
        expect(['/healthz', '/readyz']).toContain(r.url);
        continue;
      }
      expect(r.permission, `${r.method} ${r.url}`).not.toBeNull();
      expect(PERMISSIONS as readonly string[]).toContain(r.permission);
    }
  });

  it('refuses a route registered without a permission (fail closed)', async () => {
    const { startTestServer: start } = await import('./test-helpers.ts');
    const s = await start();
    try {
      s.server.app.get('/v1/undeclared', () => ({ leaked: true }));
      const res = await s.server.app.inject({
        method: 'GET',
        url: '/v1/undeclared',
        headers: s.auth,
      });
      expect(res.statusCode).toBe(403);
      expect(errorOf(res).code).toBe('ML_ERR_FORBIDDEN');
      expect(s.server.routes.find((r) => r.url === '/v1/undeclared')?.permission).toBeNull();
    } finally {
      await s.cleanup();
    }
  });
});

describe('ownership', () => {
  let anaTask: Task;
  beforeAll(async () => {
    anaTask = await submit('ana');
    expect(anaTask.user).toBe('ana');
  });

  it("bob cannot read ana's task: the same 404 as a task that does not exist", async () => {
    for (const url of [
      `/v1/tasks/${anaTask.id}`,
      `/v1/tasks/${anaTask.id}/logs`,
      `/v1/tasks/${anaTask.id}/manifest`,
      `/v1/tasks/${anaTask.id}/artifacts`,
      `/v1/tasks/${anaTask.id}/artifacts/out.txt`,
    ]) {
      const res = await inject('bob', 'GET', url);
      expect(res.statusCode, url).toBe(404);
      expect(errorOf(res), url).toMatchObject({
        code: 'ML_ERR_TASK_NOT_FOUND',
        message: `no such task: ${anaTask.id}`,
      });
    }
    expect((await inject('ana', 'GET', `/v1/tasks/${anaTask.id}`)).statusCode).toBe(200);
    expect((await inject('admin', 'GET', `/v1/tasks/${anaTask.id}`)).statusCode).toBe(200);
    expect((await inject('vic', 'GET', `/v1/tasks/${anaTask.id}`)).statusCode).toBe(200);
  });

  it("bob cannot cancel ana's task, and it stays queued", async () => {
    const res = await inject('bob', 'POST', `/v1/tasks/${anaTask.id}/cancel`, {});
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).code).toBe('ML_ERR_TASK_NOT_FOUND');
    expect((await t.deps.store.getTask(anaTask.id))?.status).toBe('queued');
  });

  it('a viewer cannot cancel nor submit', async () => {
    const cancel = await inject('vic', 'POST', `/v1/tasks/${anaTask.id}/cancel`, {});
    expect(cancel.statusCode).toBe(403);
    expect(errorOf(cancel)).toMatchObject({
      code: 'ML_ERR_FORBIDDEN',
      message: 'role viewer lacks permission tasks:cancel (POST /v1/tasks/:id/cancel)',
    });
    const before = (await t.deps.store.listTasks({ limit: 100 })).length;
    const create = await inject('vic', 'POST', '/v1/tasks', {
      commit_id: project.commitId,
      spec: sampleSpec,
    });
    expect(create.statusCode).toBe(403);
    expect((await t.deps.store.listTasks({ limit: 100 })).length).toBe(before);
    expect((await t.deps.store.getTask(anaTask.id))?.status).toBe('queued');
  });

  it('lists only own tasks; asking for another user is refused; admin sees all', async () => {
    const bobTask = await submit('bob');
    const list = (user: string, q = '') =>
      inject(user, 'GET', `/v1/tasks${q}`).then((r) => r.json<{ tasks: Task[] }>().tasks);
    expect((await list('bob')).map((x) => x.id)).toEqual([bobTask.id]);
    const other = await inject('bob', 'GET', '/v1/tasks?user=ana');
    expect(other.statusCode).toBe(403);
    expect(errorOf(other).code).toBe('ML_ERR_FORBIDDEN');
    const all = (await list('admin')).map((x) => x.id);
    expect(all).toEqual(expect.arrayContaining([anaTask.id, bobTask.id]));
    const status = await inject('bob', 'GET', '/v1/status');
    expect(status.json<{ recent: Task[] }>().recent.map((x) => x.user)).toEqual(['bob']);
    const adminStatus = await inject('admin', 'GET', '/v1/status');
    expect(adminStatus.json<{ recent: Task[] }>().recent.length).toBeGreaterThanOrEqual(2);
    expect((await inject('bob', 'POST', `/v1/tasks/${bobTask.id}/cancel`, {})).statusCode).toBe(
      200,
    );
  });

  it("bob cannot follow ana's task nor every task over the WebSocket", async () => {
    const messages: WsServerMessage[] = [];
    const ws: WebSocket = await t.server.app.injectWS(
      '/v1/ws',
      { headers: keys['bob']! },
      {
        onInit: (socket: WebSocket) =>
          socket.on('message', (d: Buffer) =>
            messages.push(JSON.parse(d.toString()) as WsServerMessage),
          ),
      },
    );
    const waitFor = async (n: number) => {
      for (let i = 0; i < 200 && messages.length < n; i++)
        await new Promise((r) => setTimeout(r, 10));
    };
    await waitFor(1);
    ws.send(JSON.stringify({ op: 'subscribe', task_id: anaTask.id }));
    await waitFor(2);
    ws.send(JSON.stringify({ op: 'subscribe', task_id: '*' }));
    await waitFor(3);
    ws.terminate();
    expect(messages).toEqual([
      { type: 'ready', version: '0.1.0', user: 'bob', role: 'researcher' },
      { type: 'error', code: 'ML_ERR_TASK_NOT_FOUND', message: `no such task: ${anaTask.id}` },
      {
        type: 'error',
        code: 'ML_ERR_FORBIDDEN',
        message: 'role researcher may follow only its own tasks, not "*"',
      },
    ]);
  });
});

describe('keys', () => {
  it('no key, a malformed, a wrong or a non-bearer key: 401 and nothing is stored', async () => {
    const before = await t.deps.store.listTasks({ limit: 100 });
    for (const headers of [
      {},
      { authorization: 'Bearer fml_short' },
      { authorization: `Bearer ${generateApiKey()}` },
      { authorization: `Basic ${t.key}` },
    ]) {
      const res = await t.server.app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers,
        payload: { commit_id: project.commitId, spec: sampleSpec },
      });
      expect(res.statusCode).toBe(401);
      expect(errorOf(res).code).toBe('ML_ERR_UNAUTHORIZED');
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).not.toContain(t.key);
    }
    expect(await t.deps.store.listTasks({ limit: 100 })).toEqual(before);
  });
});

describe('role escalation', () => {
  it('a researcher cannot call the user-admin route; admin can, and it shows no secret', async () => {
    const res = await inject('ana', 'GET', '/v1/users');
    expect(res.statusCode).toBe(403);
    expect(errorOf(res)).toMatchObject({
      code: 'ML_ERR_FORBIDDEN',
      message: 'role researcher lacks permission users:admin (GET /v1/users)',
    });
    const ok = await inject('admin', 'GET', '/v1/users');
    expect(ok.statusCode).toBe(200);
    const listed = ok.json<{ keys: Array<Record<string, unknown>> }>().keys;
    expect(listed.map((k) => k['user'])).toEqual(['admin', 'ana', 'bob', 'vic']);
    expect(Object.keys(listed[0]!).sort()).toEqual([
      'created_at',
      'id',
      'revoked_at',
      'role',
      'user',
    ]);
  });

  it('a key whose role is not in the table can do nothing', async () => {
    await addKey('mal', 'superuser');
    const res = await inject('mal', 'GET', '/v1/whoami');
    expect(res.statusCode).toBe(403);
    expect(errorOf(res).code).toBe('ML_ERR_FORBIDDEN');
  });
});
