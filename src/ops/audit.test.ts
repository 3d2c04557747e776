/**
 * @module ops/audit.test
 * `fetchml user` and `fetchml ban` append to the audit log beside the server, and
 * `fetchml audit verify` reports an intact log or the first bad line with exit 1.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { writeBans } from '../auth/bans.ts';
import { auditLogPath } from '../audit/index.ts';
import type { AuditEntry, AuditReport } from '../audit/index.ts';
import { testIo } from '../cli/shared/test-io.ts';
import { startTestServer } from '../server/test-helpers.ts';
import { main } from './main.ts';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fetchml-ops-audit-'));
});
afterEach(() => rm(home, { recursive: true, force: true }));

async function fetchml(...argv: string[]) {
  const io = testIo({ FETCHML_HOME: home }, home);
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

async function entries(): Promise<AuditEntry[]> {
  const text = await readFile(auditLogPath(home), 'utf8');
  return text
    .split('\n')
    .slice(0, -1)
    .map((l) => JSON.parse(l) as AuditEntry);
}

describe('fetchml user and ban write the audit log', () => {
  it('add, rotate, revoke and ban remove: one ops entry each, never the key', async () => {
    const added = await fetchml('user', 'add', 'ana', '--role', 'researcher', '--json');
    expect(added.code).toBe(0);
    const first = JSON.parse(added.out) as { key: string; id: string };
    const rotated = await fetchml('user', 'rotate', 'ana', '--json');
    expect(rotated.code).toBe(0);
    const second = JSON.parse(rotated.out) as { key: string; id: string };
    expect((await fetchml('user', 'revoke', 'ana')).code).toBe(0);
    await writeBans(join(home, 'bans.json'), [
      {
        ip: '203.0.113.7',
        since: '2026-01-01T00:00:00.000Z',
        until: '2999-01-01T00:00:00.000Z',
        failures: 5,
      },
    ]);
    expect((await fetchml('ban', 'remove', '203.0.113.7')).code).toBe(0);

    const all = await entries();
    expect(all.map((e) => [e.seq, e.actor, e.action, e.target, e.outcome])).toEqual([
      [1, 'ops', 'user.add', 'ana', 'ok'],
      [2, 'ops', 'user.rotate', 'ana', 'ok'],
      [3, 'ops', 'user.revoke', 'ana', 'ok'],
      [4, 'ops', 'ban.remove', '203.0.113.7', 'ok'],
    ]);
    expect(all[0]!.detail).toMatchObject({ key_id: first.id, role: 'researcher' });
    expect(all[0]!.detail).toHaveProperty('os_user');
    expect(all[1]!.detail).toMatchObject({ key_id: second.id, revoked: [first.id] });
    expect(all[2]!.detail).toMatchObject({ key_ids: [second.id], users: ['ana'] });
    expect(all[3]!.detail).toMatchObject({ until: '2999-01-01T00:00:00.000Z', failures: 5 });
    const text = await readFile(auditLogPath(home), 'utf8');
    for (const key of [first.key, second.key]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(key.slice(4, 12));
    }
  });

  it('a refused command records nothing', async () => {
    expect((await fetchml('user', 'add', 'ana', '--role', 'root')).code).toBe(1);
    expect((await fetchml('ban', 'remove', '203.0.113.7')).code).toBe(1);
    await expect(readFile(auditLogPath(home))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('appends beside a running server: one chain', async () => {
    const t = await startTestServer();
    try {
      home = t.home;
      // One command after another (each its own key-file update), beside concurrent API writes.
      const ops = (async () => {
        const out = [];
        for (const u of ['u1', 'u2', 'u3'])
          out.push(await fetchml('user', 'add', u, '--role', 'viewer'));
        return out;
      })();
      const api = Promise.all(
        [1, 2, 3].map(() =>
          t.server.app.inject({
            method: 'POST',
            url: '/v1/commits',
            headers: t.auth,
            payload: { manifest: { version: 1, entries: [] } },
          }),
        ),
      );
      const [users] = await Promise.all([ops, api]);
      expect(users.map((r) => r.err)).toEqual(['', '', '']);
      const verify = await fetchml('audit', 'verify', '--json');
      expect(verify.code).toBe(0);
      // user.add of admin (first start), three commits, three users.
      expect(JSON.parse(verify.out)).toMatchObject({ ok: true, entries: 7 });
    } finally {
      await t.cleanup();
    }
  });
});

describe('fetchml audit verify', () => {
  async function threeEntries() {
    for (const u of ['a1', 'a2', 'a3']) {
      expect((await fetchml('user', 'add', u, '--role', 'viewer')).code).toBe(0);
    }
    return (await readFile(auditLogPath(home), 'utf8')).split('\n').slice(0, -1);
  }

  it('an intact log: exit 0, the count and the head', async () => {
    const lines = await threeEntries();
    const r = await fetchml('audit', 'verify');
    expect(r.code).toBe(0);
    const last = JSON.parse(lines[2]!) as AuditEntry;
    expect(r.out).toMatch(
      new RegExp(
        `^${auditLogPath(home)}: intact, 3 entries \\(head seq 3, line digest [0-9a-f]{64}\\)\\n$`,
      ),
    );
    const json = await fetchml('audit', 'verify', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({
      ok: true,
      entries: 3,
      head: { seq: 3, hash: last.hash },
      problem: null,
    });
  });

  it('an edited entry: exit 1 naming its line and seq', async () => {
    const lines = await threeEntries();
    lines[1] = lines[1]!.replace('"target":"a2"', '"target":"zz"');
    await writeFile(auditLogPath(home), `${lines.join('\n')}\n`);
    const r = await fetchml('audit', 'verify');
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      `${auditLogPath(home)}: NOT intact\n` +
        '  line 2 (seq 2): edited — its content does not match its hash\n' +
        '  the 1 entries before it verify (up to seq 1)\n',
    );
    const json = await fetchml('audit', 'verify', '--json');
    expect(json.code).toBe(1);
    expect((JSON.parse(json.out) as AuditReport).problem).toEqual({
      line: 2,
      seq: 2,
      kind: 'edited',
      message: 'line 2 (seq 2): edited — its content does not match its hash',
    });
  });

  it('--file checks another log (relative to the working directory)', async () => {
    const lines = await threeEntries();
    await writeFile(join(home, 'copy.log'), `${lines[0]}\n${lines[2]}\n`);
    const r = await fetchml('audit', 'verify', '--file', 'copy.log');
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      `${join(home, 'copy.log')}: NOT intact\n` +
        '  line 2 (seq 3): entries deleted — seq 2 is missing before it\n' +
        '  the 1 entries before it verify (up to seq 1)\n',
    );
  });

  it('no log yet: exit 1 with what to do', async () => {
    const r = await fetchml('audit', 'verify');
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `error: no audit log at ${auditLogPath(home)} (the server creates it on its first start; --file names another)\n`,
    );
  });
});
