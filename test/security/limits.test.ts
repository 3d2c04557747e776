/**
 * Limits everywhere (issue 5, point 8): body size per route, JSON nesting depth, string lengths and
 * list counts in request bodies, and on the WebSocket message size, nesting, subscriptions per
 * connection and connections per API key. Each refusal asserts its exact code and message, and that
 * nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { LIMITS } from '../../src/core/limits.ts';
import type { WsServerMessage } from '../../src/core/schemas/api.ts';
import type { Task } from '../../src/core/schemas/task.ts';
import { bodyLimitFor, BLOB_ROUTES, jsonDepth, MANIFEST_ROUTES } from '../../src/server/limits.ts';
import {
  errorOf,
  sampleProject,
  sampleSpec,
  startTestServer,
} from '../../src/server/test-helpers.ts';
import type { TestServer } from '../../src/server/test-helpers.ts';
import { serverState } from './helpers.ts';

let t: TestServer;
let url: string;
const project = sampleProject();
const MIB = 1024 * 1024;

beforeAll(async () => {
  t = await startTestServer();
  ({ url } = await t.server.listen());
  await t.deps.blobs.put(project.data, project.sha);
  await t.deps.store.putCommit(project.commitId, project.manifest);
});
afterAll(() => t.cleanup());

const post = (path: string, payload: string | object, headers: Record<string, string> = {}) =>
  t.server.app.inject({
    method: 'POST',
    url: path,
    headers: { ...t.auth, 'content-type': 'application/json', ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

const submit = (over: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) =>
  post('/v1/tasks', { commit_id: project.commitId, spec: { ...sampleSpec, ...spec }, ...over });

describe('body size per route', () => {
  it('gives every registered route a limit: manifests the configured size, uploads theirs, the rest small', () => {
    const limits = { json: 64 * MIB, blob: 8192 * MIB };
    const registered = new Set(t.server.routes.map((r) => `${r.method} ${r.url}`));
    for (const route of [...MANIFEST_ROUTES, ...BLOB_ROUTES]) {
      if (route.startsWith('POST /v1/commits') || route.includes('/v1/blobs/')) {
        expect(registered.has(route), route).toBe(true);
      }
    }
    for (const r of t.server.routes) {
      const limit = bodyLimitFor(r.method, r.url, limits);
      const key = `${r.method} ${r.url}`;
      if (BLOB_ROUTES.has(key)) expect(limit, key).toBe(limits.blob);
      else if (MANIFEST_ROUTES.has(key)) expect(limit, key).toBe(limits.json);
      else if (['GET', 'HEAD'].includes(r.method) || key === 'POST /v1/tasks/:id/cancel') {
        expect(limit, key).toBe(LIMITS.noBodyBytes);
      } else expect(limit, key).toBe(LIMITS.smallBodyBytes);
    }
  });

  it('refuses a submit body over 2 MiB with 413 before reading it; nothing changes', async () => {
    const before = await serverState(t);
    const res = await submit({ args: ['x'.repeat(3 * MIB)] });
    expect(res.statusCode).toBe(413);
    expect(errorOf(res)).toEqual({
      code: 'ML_ERR_BODY_TOO_LARGE',
      message: 'request body is larger than the server accepts',
    });
    expect(await serverState(t)).toEqual(before);
  });

  it('lets a commit carry a manifest larger than the small-route limit', async () => {
    const entries = Array.from({ length: 16_500 }, (_, i) => ({
      path: `f/${String(i).padStart(8, '0')}.txt`,
      type: 'file',
      mode: 0o644,
      size: 1,
      sha256: project.sha,
    }));
    const body = JSON.stringify({ manifest: { version: 1, entries } });
    expect(body.length).toBeGreaterThan(LIMITS.smallBodyBytes);
    const res = await post('/v1/commits', body);
    expect(res.statusCode).toBe(200);
  });

  it('refuses a body on cancel over 16 KiB; the task stays queued', async () => {
    const task = (await submit()).json<Task>();
    const res = await post(`/v1/tasks/${task.id}/cancel`, { pad: 'x'.repeat(20 * 1024) });
    expect(res.statusCode).toBe(413);
    expect(errorOf(res).code).toBe('ML_ERR_BODY_TOO_LARGE');
    expect((await t.deps.store.getTask(task.id))?.status).toBe('queued');
  });
});

describe('JSON nesting depth', () => {
  it('counts brackets outside strings only', () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[[{{{{"}]}')).toBe(3);
    expect(jsonDepth('"\\"[["')).toBe(0);
    expect(jsonDepth('['.repeat(1000), 32)).toBe(33);
  });

  it('refuses a deeply nested body with 400 ML_ERR_BODY_TOO_DEEP before parsing it; nothing changes', async () => {
    const before = await serverState(t);
    const n = 500_000;
    const body = `{"commit_id":"${project.commitId}","spec":{"name":"a","command":"b","env":${'['.repeat(n)}${']'.repeat(n)}}}`;
    const res = await post('/v1/tasks', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: {
        code: 'ML_ERR_BODY_TOO_DEEP',
        message: `body: objects and lists nest more than ${LIMITS.jsonDepth} deep`,
        details: { field: 'body', max_depth: LIMITS.jsonDepth },
      },
    });
    const proto = `{"a":${'{"__proto__":'.repeat(n)}1${'}'.repeat(n)}}`;
    expect(errorOf(await post('/v1/commits', proto)).code).toBe('ML_ERR_BODY_TOO_DEEP');
    expect(await serverState(t)).toEqual(before);
  });

  it('accepts nesting up to the limit (then the schema decides)', async () => {
    const d = LIMITS.jsonDepth - 3; // {spec:{env:…}} adds three levels
    const res = await post(
      '/v1/tasks',
      `{"commit_id":"${project.commitId}","spec":{"name":"a","command":"b","env":${'['.repeat(d)}${']'.repeat(d)}}}`,
    );
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe('ML_ERR_VALIDATION');
  });

  it('still refuses prototype poisoning', async () => {
    const res = await post('/v1/tasks', `{"__proto__":{"admin":true}}`);
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toEqual({ code: 'ML_ERR_VALIDATION', message: 'body: not valid JSON' });
  });
});

describe('string lengths and list counts', () => {
  const long = 'x'.repeat(LIMITS.longString + 1);
  const cases: [string, () => ReturnType<typeof submit>, string][] = [
    [
      'an argument',
      () => submit({ args: [long] }),
      `args.0: Too big: expected string to have <=${LIMITS.longString} characters`,
    ],
    [
      'too many arguments',
      () => submit({ args: Array(LIMITS.argv + 1).fill('a') }),
      `args: Too big: expected array to have <=${LIMITS.argv} items`,
    ],
    ['a command string', () => submit({}, { command: long }), 'spec.command'],
    [
      'too many command words',
      () => submit({}, { command: Array(LIMITS.argv + 1).fill('a') }),
      'spec.command',
    ],
    [
      'an image name',
      () => submit({}, { image: 'i'.repeat(LIMITS.shortString + 1) }),
      `spec.image: Too big: expected string to have <=${LIMITS.shortString} characters`,
    ],
    [
      'an env value',
      () => submit({}, { env: { A: long } }),
      `spec.env.A: Too big: expected string to have <=${LIMITS.longString} characters`,
    ],
    [
      'too many env entries',
      () =>
        submit(
          {},
          {
            env: Object.fromEntries(
              Array.from({ length: LIMITS.envEntries + 1 }, (_, i) => [`V${i}`, '1']),
            ),
          },
        ),
      `spec.env: at most ${LIMITS.envEntries} variables`,
    ],
    [
      'a label',
      () => submit({}, { labels: ['l'.repeat(LIMITS.shortString + 1)] }),
      `spec.labels.0: Too big: expected string to have <=${LIMITS.shortString} characters`,
    ],
    [
      'too many labels',
      () => submit({}, { labels: Array.from({ length: LIMITS.specList + 1 }, (_, i) => `l${i}`) }),
      `spec.labels: Too big: expected array to have <=${LIMITS.specList} items`,
    ],
    [
      'too many datasets',
      () =>
        submit(
          {},
          { datasets: Array.from({ length: LIMITS.specList + 1 }, (_, i) => ({ name: `d${i}` })) },
        ),
      `spec.datasets: Too big: expected array to have <=${LIMITS.specList} items`,
    ],
    ['a timeout string', () => submit({}, { timeout: '1'.repeat(65) }), 'spec.timeout'],
  ];
  for (const [what, send, message] of cases) {
    it(`refuses ${what} with 400 ML_ERR_VALIDATION naming the field; nothing changes`, async () => {
      const before = await serverState(t);
      const res = await send();
      expect(res.statusCode).toBe(400);
      expect(errorOf(res).code).toBe('ML_ERR_VALIDATION');
      expect(errorOf(res).message).toContain(message);
      expect(await serverState(t)).toEqual(before);
    });
  }

  it('refuses more than 10,000 hashes in one missing-blobs call', async () => {
    const res = await post('/v1/blobs/missing', {
      hashes: Array(LIMITS.missingHashes + 1).fill(project.sha),
    });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe(
      `invalid body: hashes: Too big: expected array to have <=${LIMITS.missingHashes} items`,
    );
  });

  it('refuses an over-long query filter', async () => {
    const res = await t.server.app.inject({
      method: 'GET',
      url: `/v1/tasks?user=${'u'.repeat(LIMITS.shortString + 1)}`,
      headers: t.auth,
    });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe(
      `invalid query: user: Too big: expected string to have <=${LIMITS.shortString} characters`,
    );
  });

  it('refuses a symlink target longer than a path may be', async () => {
    const res = await post('/v1/commits', {
      manifest: {
        version: 1,
        entries: [{ path: 'l', type: 'symlink', target: 'a/'.repeat(2100) }],
      },
    });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toContain(
      `manifest.entries.0.target: Too big: expected string to have <=${LIMITS.path} characters`,
    );
  });
});

describe('WebSocket limits', () => {
  /** A real WebSocket to the listening server, recording messages and the close code. */
  async function open(headers: Record<string, string> = t.auth) {
    const messages: WsServerMessage[] = [];
    const ws = new WebSocket(`${url.replace('https:', 'wss:')}/v1/ws`, {
      headers,
      rejectUnauthorized: false,
    });
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('message', (d: Buffer) =>
      messages.push(JSON.parse(d.toString('utf8')) as WsServerMessage),
    );
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const waitFor = async (pred: (m: WsServerMessage) => boolean): Promise<WsServerMessage> => {
      for (let i = 0; i < 1000; i++) {
        const found = messages.find(pred);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`timed out; got ${JSON.stringify(messages)}`);
    };
    await waitFor((m) => m.type === 'ready');
    return { ws, messages, closed, waitFor };
  }

  it('closes the connection with 1009 on a message over 16 KiB', async () => {
    const c = await open();
    c.ws.send(JSON.stringify({ op: 'subscribe', task_id: 'x'.repeat(LIMITS.wsMessageBytes) }));
    expect(await c.closed).toBe(1009);
  });

  it('refuses a deeply nested message and an over-long task id, and stays open', async () => {
    const c = await open();
    c.ws.send(`{"op":${'['.repeat(100)}${']'.repeat(100)}}`);
    expect(await c.waitFor((m) => m.type === 'error')).toEqual({
      type: 'error',
      code: 'ML_ERR_BODY_TOO_DEEP',
      message: `message: objects and lists nest more than ${LIMITS.jsonDepth} deep`,
    });
    c.ws.send(JSON.stringify({ op: 'subscribe', task_id: `task_${'x'.repeat(LIMITS.taskId)}` }));
    expect(
      await c.waitFor((m) => m.type === 'error' && m.code === 'ML_ERR_VALIDATION'),
    ).toMatchObject({
      message: `message: task_id: Too big: expected string to have <=${LIMITS.taskId} characters`,
    });
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.ws.close();
  });

  it(`follows at most ${LIMITS.wsSubscriptions} tasks per connection`, async () => {
    const ids: string[] = [];
    for (let i = 0; i <= LIMITS.wsSubscriptions; i++) ids.push((await submit()).json<Task>().id);
    const c = await open();
    for (const id of ids.slice(0, LIMITS.wsSubscriptions)) {
      c.ws.send(JSON.stringify({ op: 'subscribe', task_id: id }));
    }
    for (const id of ids.slice(0, LIMITS.wsSubscriptions)) {
      await c.waitFor((m) => m.type === 'subscribed' && m.task_id === id);
    }
    c.ws.send(JSON.stringify({ op: 'subscribe', task_id: ids.at(-1) }));
    expect(await c.waitFor((m) => m.type === 'error')).toEqual({
      type: 'error',
      code: 'ML_ERR_LIMIT_EXCEEDED',
      message: `at most ${LIMITS.wsSubscriptions} subscriptions per connection; unsubscribe from one first`,
    });
    // Unsubscribing makes room.
    c.ws.send(JSON.stringify({ op: 'unsubscribe', task_id: ids[0] }));
    c.ws.send(JSON.stringify({ op: 'subscribe', task_id: ids.at(-1) }));
    await c.waitFor((m) => m.type === 'subscribed' && m.task_id === ids.at(-1));
    c.ws.close();
  });

  it(`holds at most ${LIMITS.wsConnectionsPerKey} connections per API key; closing one makes room`, async () => {
    const conns = [];
    for (let i = 0; i < LIMITS.wsConnectionsPerKey; i++) conns.push(await open());
    const messages: WsServerMessage[] = [];
    const extra = new WebSocket(`${url.replace('https:', 'wss:')}/v1/ws`, {
      headers: t.auth,
      rejectUnauthorized: false,
    });
    extra.on('message', (d: Buffer) =>
      messages.push(JSON.parse(d.toString('utf8')) as WsServerMessage),
    );
    const code = await new Promise<number>((resolve) => extra.on('close', (c) => resolve(c)));
    expect(code).toBe(4429);
    expect(messages).toEqual([
      {
        type: 'error',
        code: 'ML_ERR_LIMIT_EXCEEDED',
        message: `at most ${LIMITS.wsConnectionsPerKey} WebSocket connections per API key are open; close one first`,
      },
    ]);
    conns[0]!.ws.close();
    await conns[0]!.closed;
    const again = await open();
    again.ws.close();
    for (const c of conns.slice(1)) c.ws.close();
    await Promise.all(conns.map((c) => c.closed));
  });
});
