import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateApiKey, hashApiKey } from './auth/api-keys.ts';
import { errorOf, sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
let dir: string;
const project = sampleProject();
const keyOf: Record<string, { authorization: string }> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fetchml-roles-'));
  const rolesFile = join(dir, 'roles.yaml');
  await writeFile(
    rolesFile,
    [
      'roles:',
      '  admin: { permissions: ["*"] }',
      '  researcher:',
      '    permissions: [tasks:create, tasks:read:own, self:read]',
      '    rate_limit_per_min: 5',
      '',
    ].join('\n'),
  );
  t = await startTestServer({ security: { rolesFile, rateLimitPerMin: 30 } });
  await t.deps.blobs.put(project.data, project.sha);
  await t.deps.store.putCommit(project.commitId, project.manifest);
  for (const user of ['ana', 'bob', 'cy']) {
    const key = generateApiKey();
    await t.server.keys.add(hashApiKey(key, { user, role: 'researcher' }));
    keyOf[user] = { authorization: `Bearer ${key}` };
  }
});
afterAll(async () => {
  await t.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const whoami = (user: string) =>
  t.server.app.inject({ method: 'GET', url: '/v1/whoami', headers: keyOf[user] ?? t.auth });

describe('rate limit', () => {
  it('uses the per-role limit of the roles file and reports it in headers', async () => {
    const res = await whoami('ana');
    expect(res.statusCode).toBe(200);
    expect(res.headers['ratelimit-limit']).toBe('5');
    expect(res.headers['ratelimit-remaining']).toBe('4');
    expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
    // A role without its own limit gets security.rate_limit_per_min.
    expect((await whoami('admin')).headers['ratelimit-limit']).toBe('30');
  });

  it('exhaustion: 429 ML_ERR_RATE_LIMITED with Retry-After, and a refused submit changes nothing', async () => {
    for (let i = 0; i < 4; i++) expect((await whoami('ana')).statusCode).toBe(200);
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: keyOf['ana'],
      payload: { commit_id: project.commitId, spec: sampleSpec },
    });
    expect(res.statusCode).toBe(429);
    expect(errorOf(res)).toMatchObject({
      code: 'ML_ERR_RATE_LIMITED',
      message: 'rate limit of 5 requests per minute for this API key reached; retry in 12s',
    });
    expect(res.headers['retry-after']).toBe('12');
    expect(res.headers['ratelimit-remaining']).toBe('0');
    expect(await t.deps.store.listTasks({ limit: 10 })).toEqual([]);
    // Another key of the same role is not affected.
    expect((await whoami('bob')).statusCode).toBe(200);
  });

  it('a request refused by the permission step spends no budget', async () => {
    const res = await t.server.app.inject({
      method: 'GET',
      url: '/v1/status',
      headers: keyOf['bob'],
    });
    expect(res.statusCode).toBe(403);
    expect((await whoami('bob')).headers['ratelimit-remaining']).toBe('3');
  });

  it('a WebSocket costs one request at connect, none per message', async () => {
    const ws = await t.server.app.injectWS('/v1/ws', { headers: keyOf['cy'] });
    for (let i = 0; i < 10; i++) ws.send(JSON.stringify({ op: 'auth', api_key: 'x' }));
    await new Promise((r) => setTimeout(r, 50));
    ws.terminate();
    expect((await whoami('cy')).headers['ratelimit-remaining']).toBe('3');
  });
});
