import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openBanList } from '../auth/bans.ts';
import { testIo } from '../cli/shared/test-io.ts';
import { main } from '../ops/main.ts';
import { errorOf, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    security: { ipAllowlist: ['0.0.0.0/0', '::/0'], banAfterFailures: 3, banMinutes: 60 },
  });
});
afterAll(() => t.cleanup());

const from = (remoteAddress: string, headers: Record<string, string>) =>
  t.server.app.inject({ method: 'GET', url: '/v1/whoami', remoteAddress, headers });

async function fetchml(...argv: string[]) {
  const io = testIo({ FETCHML_HOME: t.home }, t.home);
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

// The failregex of deploy/fail2ban/filter.d/fetchml.conf, after fail2ban strips the date.
const FAILREGEX = /^\s*fetchml\[\d+\]: auth failure from (\S+)\s*$/;

describe('automatic bans', () => {
  it('bans an address after repeated failures, whatever it sends next; others are unaffected', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await from('203.0.113.9', { authorization: 'Bearer fml_wrong' })).statusCode).toBe(
        401,
      );
    }
    const res = await from('203.0.113.9', t.auth);
    expect(res.statusCode).toBe(403);
    expect(errorOf(res).code).toBe('ML_ERR_IP_BANNED');
    expect(errorOf(res).message).toMatch(
      /^too many failed authentications from 203\.0\.113\.9: banned until \d{4}-/,
    );
    expect((await from('198.51.100.4', t.auth)).statusCode).toBe(200);
  });

  it('writes fail2ban-compatible lines without the key tried', async () => {
    const log = await readFile(join(t.home, 'logs', 'auth.log'), 'utf8');
    const lines = log.trim().split('\n');
    const failures = lines
      .map((l) => FAILREGEX.exec(l.replace(/^\S+Z /, '')))
      .filter((m) => m !== null);
    expect(failures.map((m) => m[1])).toEqual(['203.0.113.9', '203.0.113.9', '203.0.113.9']);
    expect(lines.at(-1)).toMatch(/ fetchml\[\d+\]: ban 203\.0\.113\.9 until /);
    expect(log).not.toContain('fml_wrong');
  });

  it('persists: a fresh ban list over the same file sees the ban', async () => {
    const fresh = openBanList(join(t.home, 'bans.json'), { threshold: 3, banMs: 1000 });
    expect(await fresh.bannedUntil('203.0.113.9')).not.toBeNull();
  });

  it('fetchml ban list / remove; the removal is effective at once', async () => {
    const list = await fetchml('ban', 'list');
    expect(list.out).toMatch(/^ADDRESS\s+SINCE\s+UNTIL\s+FAILURES\n203\.0\.113\.9 /);
    expect((await fetchml('ban', 'remove', '203.0.113.9')).out).toBe(
      'removed the ban of 203.0.113.9\n',
    );
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await from('203.0.113.9', t.auth)).statusCode;
      if (status !== 200) await new Promise((r) => setTimeout(r, 10));
    }
    expect(status).toBe(200);
    expect((await fetchml('ban', 'remove', '203.0.113.9')).err).toContain('is not banned');
  });
});
