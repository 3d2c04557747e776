import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { errorOf, sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ security: { ipAllowlist: ['127.0.0.0/8', '2001:db8::/32'] } });
});
afterAll(() => t.cleanup());

const from = (remoteAddress: string, url = '/v1/status', headers: object = t.auth) =>
  t.server.app.inject({ method: 'GET', url, remoteAddress, headers: headers as never });

describe('ip allowlist', () => {
  it('refuses an outside address with 403 ML_ERR_IP_NOT_ALLOWED, even with the admin key', async () => {
    for (const ip of ['203.0.113.7', '::ffff:203.0.113.7', '2001:db9::1']) {
      const res = await from(ip);
      expect(res.statusCode, ip).toBe(403);
      expect(errorOf(res)).toEqual({
        code: 'ML_ERR_IP_NOT_ALLOWED',
        message: `client address ${ip} is not allowed to connect (see security.ip_allowlist on the server)`,
      });
      expect(res.body).not.toContain(t.key);
      expect(res.body).not.toContain('127.0.0.0');
    }
  });

  it('refuses before authentication: no key and a bad key get the same 403, not a 401', async () => {
    expect((await from('203.0.113.7', '/v1/status', {})).statusCode).toBe(403);
    const bad = await from('203.0.113.7', '/v1/status', { authorization: 'Bearer fml_nope' });
    expect(bad.statusCode).toBe(403);
    expect(bad.headers['www-authenticate']).toBeUndefined();
  });

  it('covers public routes, and a refused submit changes nothing', async () => {
    expect((await from('203.0.113.7', '/healthz', {})).statusCode).toBe(403);
    const project = sampleProject();
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/tasks',
      remoteAddress: '198.51.100.1',
      headers: t.auth,
      payload: { commit_id: project.commitId, spec: sampleSpec },
    });
    expect(res.statusCode).toBe(403);
    expect(await t.deps.store.listTasks({ limit: 10 })).toEqual([]);
  });

  it('allows listed addresses, IPv4-mapped and IPv6 included', async () => {
    for (const ip of ['127.0.0.1', '::ffff:127.0.0.1', '2001:db8::5']) {
      expect((await from(ip)).statusCode, ip).toBe(200);
    }
  });
});
