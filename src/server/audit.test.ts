/**
 * @module server/audit.test
 * What the API writes to `<home>/logs/audit.log`: a chained entry per state-changing request
 * (before the response), refusals by the auth chain with what is safe to keep of the key, bans,
 * server start and stop — and nothing for reads.
 */
import { readFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { auditLogPath, lineDigest, verifyAuditLog } from '../audit/index.ts';
import type { AuditEntry } from '../audit/index.ts';
import type { Task } from '../core/schemas/task.ts';
import { generateApiKey, hashApiKey } from './auth/api-keys.ts';
import { sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
const project = sampleProject();
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const keys: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestServer({
    security: { ipAllowlist: ['0.0.0.0/0', '::/0'], banAfterFailures: 2, banMinutes: 60 },
  });
  for (const [user, role] of [
    ['ana', 'researcher'],
    ['vic', 'viewer'],
  ] as const) {
    const key = generateApiKey();
    await t.server.keys.add(hashApiKey(key, { user, role }));
    keys[user] = key;
  }
});
afterAll(() => t.cleanup());

async function entries(): Promise<AuditEntry[]> {
  const text = await readFile(auditLogPath(t.home), 'utf8');
  return text
    .split('\n')
    .slice(0, -1)
    .map((l) => JSON.parse(l) as AuditEntry);
}
const lastEntry = async () => (await entries()).at(-1)!;

describe('audit log of the API', () => {
  it('starts with the admin key the first start created', async () => {
    expect((await entries())[0]).toMatchObject({
      seq: 1,
      actor: 'system',
      action: 'user.add',
      target: 'admin',
      outcome: 'ok',
      detail: { role: 'admin' },
    });
  });

  it('upload, commit, submit and cancel through the API: one chained entry each', async () => {
    const ana = bearer(keys['ana']!);
    const before = (await entries()).length;
    const put = await t.server.app.inject({
      method: 'PUT',
      url: `/v1/blobs/${project.sha}`,
      headers: { ...ana, 'content-type': 'application/octet-stream' },
      payload: project.data,
    });
    expect(put.statusCode).toBe(201);
    const commit = await t.server.app.inject({
      method: 'POST',
      url: '/v1/commits',
      headers: ana,
      payload: { manifest: project.manifest },
    });
    expect(commit.statusCode).toBe(200);
    const submit = await t.server.app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: ana,
      payload: { commit_id: project.commitId, spec: sampleSpec },
    });
    expect(submit.statusCode).toBe(201);
    const task = submit.json<Task>();
    const cancel = await t.server.app.inject({
      method: 'POST',
      url: `/v1/tasks/${task.id}/cancel`,
      headers: ana,
    });
    expect(cancel.statusCode).toBe(200);

    // On disk before the response: read right after, no waiting.
    const all = await entries();
    const added = all.slice(before);
    expect(added.map((e) => e.action)).toEqual([
      'blob.put',
      'commit.create',
      'task.create',
      'task.cancel',
    ]);
    const [blob, created, , cancelled] = added as [AuditEntry, AuditEntry, AuditEntry, AuditEntry];
    expect(blob).toMatchObject({ actor: 'ana', target: project.sha, detail: { size: 15 } });
    expect(created).toMatchObject({
      target: project.commitId,
      detail: { stored: true, missing: 0 },
    });
    expect(added[2]).toMatchObject({
      target: task.id,
      detail: { name: 'demo', commit_id: project.commitId, priority: task.priority, status: 201 },
    });
    expect(cancelled).toMatchObject({
      seq: all.length,
      actor: 'ana',
      ip: '127.0.0.1',
      action: 'task.cancel',
      target: task.id,
      outcome: 'ok',
      detail: {
        key_id: expect.stringMatching(/^key_/) as unknown,
        method: 'POST',
        route: '/v1/tasks/:id/cancel',
        status: 200,
        result: 'removed',
      },
    });
    const lines = (await readFile(auditLogPath(t.home), 'utf8')).split('\n');
    expect(cancelled.prev).toBe(lineDigest(lines[all.length - 2]!));
    expect(await verifyAuditLog(auditLogPath(t.home))).toMatchObject({
      ok: true,
      entries: all.length,
    });
  });

  it('a refused change is recorded with its outcome and error code', async () => {
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/tasks/task_01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel',
      headers: bearer(keys['ana']!),
    });
    expect(res.statusCode).toBe(404);
    expect(await lastEntry()).toMatchObject({
      actor: 'ana',
      action: 'task.cancel',
      target: 'task_01ARZ3NDEKTSV4RRFFQ69G5FAV',
      outcome: 'error',
      detail: { status: 404, code: 'ML_ERR_TASK_NOT_FOUND' },
    });
  });

  it('reads write nothing', async () => {
    const before = await readFile(auditLogPath(t.home), 'utf8');
    for (const url of ['/v1/status', '/v1/tasks', '/v1/whoami', '/healthz']) {
      const res = await t.server.app.inject({ method: 'GET', url, headers: t.auth });
      expect(res.statusCode, url).toBe(200);
    }
    const missing = await t.server.app.inject({
      method: 'POST',
      url: '/v1/blobs/missing',
      headers: t.auth,
      payload: { hashes: [project.sha] },
    });
    expect(missing.statusCode).toBe(200);
    expect(await readFile(auditLogPath(t.home), 'utf8')).toBe(before);
  });

  it('every state-changing route is audited', () => {
    // POSTs that change nothing (a question too large for a query string, a check).
    const readOnlyPosts = new Set([
      'POST /v1/blobs/missing',
      'POST /v1/plan',
      'POST /v1/tasks/:id/verify',
      'POST /v1/datasets/:name/verify',
    ]);
    for (const r of t.server.routes) {
      if (r.method === 'GET' || r.method === 'HEAD' || r.public) continue;
      const name = `${r.method} ${r.url}`;
      if (readOnlyPosts.has(name)) continue;
      expect(t.server.audited.has(name), `${name} declares no config.audit`).toBe(true);
    }
  });

  it('auth failures: the reason and the address, never the key', async () => {
    const revoked = generateApiKey();
    const record = hashApiKey(revoked, { user: 'old', role: 'viewer' });
    await t.server.keys.add({ ...record, revoked_at: new Date().toISOString() });
    const unknown = generateApiKey();
    const tries: [string, Record<string, string>][] = [
      ['198.51.100.1', {}],
      ['198.51.100.2', bearer('hunter2')],
      ['198.51.100.3', bearer(unknown)],
      ['198.51.100.4', bearer(revoked)],
    ];
    const before = (await entries()).length;
    for (const [remoteAddress, headers] of tries) {
      const res = await t.server.app.inject({
        method: 'GET',
        url: '/v1/whoami',
        remoteAddress,
        headers,
      });
      expect(res.statusCode).toBe(401);
    }
    const added = (await entries()).slice(before);
    const common = {
      actor: 'anonymous',
      action: 'auth.failure',
      target: null,
      outcome: 'denied',
    };
    const req = { code: 'ML_ERR_UNAUTHORIZED', method: 'GET', route: '/v1/whoami' };
    expect(added).toMatchObject([
      { ...common, ip: '198.51.100.1', detail: { ...req, reason: 'missing_key' } },
      { ...common, ip: '198.51.100.2', detail: { ...req, reason: 'malformed_key' } },
      {
        ...common,
        ip: '198.51.100.3',
        detail: { ...req, reason: 'unknown_key', key_hint: unknown.slice(0, 8) },
      },
      {
        ...common,
        ip: '198.51.100.4',
        detail: { ...req, reason: 'revoked_key', key_id: record.id, key_user: 'old' },
      },
    ]);
    const text = await readFile(auditLogPath(t.home), 'utf8');
    for (const secret of [unknown, revoked, 'hunter2', unknown.slice(4, 12), revoked.slice(4)]) {
      expect(text).not.toContain(secret);
    }
  });

  it('a refused permission is auth.forbidden; the ban a failure causes is ban.add', async () => {
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(keys['vic']!),
      payload: {},
    });
    expect(res.statusCode).toBe(403);
    expect(await lastEntry()).toMatchObject({
      actor: 'vic',
      action: 'auth.forbidden',
      target: '/v1/tasks',
      outcome: 'denied',
      detail: { code: 'ML_ERR_FORBIDDEN', role: 'viewer', permission: 'tasks:create' },
    });

    // banAfterFailures is 2: the second failure from one address bans it.
    const before = (await entries()).length;
    for (let i = 0; i < 2; i++) {
      await t.server.app.inject({
        method: 'GET',
        url: '/v1/whoami',
        remoteAddress: '203.0.113.50',
        headers: bearer('nope'),
      });
    }
    const added = (await entries()).slice(before);
    expect(added.map((e) => [e.action, e.ip])).toEqual([
      ['auth.failure', '203.0.113.50'],
      ['auth.failure', '203.0.113.50'],
      ['ban.add', '203.0.113.50'],
    ]);
    expect(added[2]).toMatchObject({
      actor: 'system',
      target: '203.0.113.50',
      detail: { failures: 2, until: expect.stringMatching(/^\d{4}-/) as unknown },
    });
    // Requests refused by the live ban are not recorded (anyone could fill the disk).
    await t.server.app.inject({
      method: 'GET',
      url: '/v1/whoami',
      remoteAddress: '203.0.113.50',
      headers: t.auth,
    });
    expect(await entries()).toHaveLength(before + 3);
    expect(await verifyAuditLog(auditLogPath(t.home))).toMatchObject({ ok: true });
  });
});

describe('server start and stop', () => {
  it('are recorded when the server listens and closes', async () => {
    const s = await startTestServer();
    try {
      const { url } = await s.server.listen();
      await s.server.close();
      const text = await readFile(auditLogPath(s.home), 'utf8');
      const actions = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as AuditEntry);
      expect(actions.map((e) => e.action)).toEqual(['user.add', 'server.start', 'server.stop']);
      expect(actions[1]).toMatchObject({
        actor: 'system',
        target: url,
        detail: { pid: process.pid },
      });
    } finally {
      await s.cleanup();
    }
  });
});
