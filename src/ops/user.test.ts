import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { testIo } from '../cli/shared/test-io.ts';
import { startTestServer } from '../server/test-helpers.ts';
import type { TestServer } from '../server/test-helpers.ts';
import { main } from './main.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.cleanup());

async function fetchml(...argv: string[]) {
  const io = testIo({ FETCHML_HOME: t.home }, t.home);
  const code = await main([...argv], io);
  return { code, out: io.out(), err: io.err() };
}

const whoami = (key: string) =>
  t.server.app.inject({
    method: 'GET',
    url: '/v1/whoami',
    headers: { authorization: `Bearer ${key}` },
  });

/** The first answer with `status` within 1 s (the server sees the key file change via inotify). */
async function whoamiUntil(key: string, status: number) {
  for (let i = 0; i < 100; i++) {
    const res = await whoami(key);
    if (res.statusCode === status) return res;
    await new Promise((r) => setTimeout(r, 10));
  }
  return whoami(key);
}

describe('fetchml user', () => {
  let anaKey = '';

  it('add prints the new key once; the running server accepts it at once', async () => {
    const r = await fetchml('user', 'add', 'ana', '--role', 'researcher', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { key: string; user: string; role: string; id: string };
    expect(out).toMatchObject({ user: 'ana', role: 'researcher' });
    expect(out.key).toMatch(/^fml_[A-Za-z0-9_-]{43}$/);
    anaKey = out.key;
    const res = await whoamiUntil(anaKey, 200);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ user: 'ana', role: 'researcher' });
  });

  it('list shows ids, users and roles, never keys', async () => {
    const r = await fetchml('user', 'list');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ID\s+USER\s+ROLE\s+CREATED\s+REVOKED\n/);
    expect(r.out).toContain('ana');
    expect(r.out).not.toContain(anaKey);
    expect(r.out).not.toContain(anaKey.slice(4, 12));
  });

  it('refuses an unknown role, a bad name and a second add', async () => {
    expect((await fetchml('user', 'add', 'bob', '--role', 'root')).err).toContain(
      'role: unknown role "root"',
    );
    expect((await fetchml('user', 'add', '../x', '--role', 'viewer')).code).toBe(1);
    expect((await fetchml('user', 'add', 'ana', '--role', 'viewer')).err).toContain(
      'already has a live key',
    );
  });

  it('rotate gives a new key and the old one is refused at once', async () => {
    const r = await fetchml('user', 'rotate', 'ana', '--json');
    expect(r.code).toBe(0);
    const { key } = JSON.parse(r.out) as { key: string };
    expect(key).not.toBe(anaKey);
    const old = await whoamiUntil(anaKey, 401);
    expect(old.statusCode).toBe(401);
    expect(old.json()).toMatchObject({ error: { code: 'ML_ERR_UNAUTHORIZED' } });
    expect((await whoamiUntil(key, 200)).statusCode).toBe(200);
    anaKey = key;
  });

  it('revoke by user name takes effect at once', async () => {
    const r = await fetchml('user', 'revoke', 'ana');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^revoked key_\S+ \(ana, researcher\)\n$/);
    const res = await whoamiUntil(anaKey, 401);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      error: { code: 'ML_ERR_UNAUTHORIZED', message: 'invalid or revoked API key' },
    });
    expect((await fetchml('user', 'revoke', 'ana')).err).toContain('no live key or user named ana');
  });

  it('revoke by key id', async () => {
    const add = JSON.parse(
      (await fetchml('user', 'add', 'cy', '--role', 'viewer', '--json')).out,
    ) as {
      key: string;
      id: string;
    };
    expect((await whoamiUntil(add.key, 200)).statusCode).toBe(200);
    expect((await fetchml('user', 'revoke', add.id)).code).toBe(0);
    expect((await whoamiUntil(add.key, 401)).statusCode).toBe(401);
  });
});
