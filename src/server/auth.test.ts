import { stat } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateApiKey, hashApiKey, verifyApiKey } from './auth/api-keys.ts';
import { runAuthChain } from './auth/chain.ts';
import type { AuthContext } from './auth/chain.ts';
import { startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.cleanup());

describe('auth', () => {
  it('serves /healthz without a key', async () => {
    const res = await t.server.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true, version: '0.1.0' });
  });

  it('refuses a missing key with 401 ML_ERR_UNAUTHORIZED', async () => {
    const res = await t.server.app.inject({ method: 'GET', url: '/v1/status' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'ML_ERR_UNAUTHORIZED' } });
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('refuses a wrong, malformed or non-bearer key', async () => {
    for (const authorization of [`Bearer ${generateApiKey()}`, 'Bearer nope', `Basic ${t.key}`]) {
      const res = await t.server.app.inject({
        method: 'GET',
        url: '/v1/status',
        headers: { authorization },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'ML_ERR_UNAUTHORIZED' } });
    }
  });

  it('accepts the admin key and answers unknown routes with 404 ML_ERR_NOT_FOUND', async () => {
    const ok = await t.server.app.inject({ method: 'GET', url: '/v1/status', headers: t.auth });
    expect(ok.statusCode).toBe(200);
    const res = await t.server.app.inject({ method: 'GET', url: '/v1/nope', headers: t.auth });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: 'ML_ERR_NOT_FOUND', message: 'no route GET /v1/nope' },
    });
  });

  it('writes the admin key 0600 and stores only its hash', async () => {
    const info = await stat(join(t.home, 'admin.key'));
    expect(info.mode & 0o777).toBe(0o600);
    const keys = await t.server.keys.list();
    expect(keys).toHaveLength(1);
    expect(JSON.stringify(keys)).not.toContain(t.key);
    expect((await stat(join(t.home, 'keys.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(t.home, 'tls', 'key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('refuses a revoked key', async () => {
    const key = generateApiKey();
    const record = hashApiKey(key, { user: 'ana', role: 'researcher' });
    await t.server.keys.add(record);
    expect((await verifyApiKey(t.server.keys, key))?.user).toBe('ana');
    await t.server.keys.revoke(record.id, new Date().toISOString());
    expect(await verifyApiKey(t.server.keys, key)).toBeNull();
  });

  it('runs chain steps in their fixed order whatever the list order', async () => {
    const seen: string[] = [];
    const ctx: AuthContext = {
      ip: '::1',
      method: 'GET',
      route: '/',
      url: '/',
      token: null,
      principal: null,
      headers: {},
    };
    await runAuthChain(
      [
        { name: 'audit', run: () => void seen.push('audit') },
        { name: 'key', run: () => void seen.push('key') },
        { name: 'ip_allowlist', run: () => void seen.push('ip_allowlist') },
      ],
      ctx,
    );
    expect(seen).toEqual(['ip_allowlist', 'key', 'audit']);
  });
});
