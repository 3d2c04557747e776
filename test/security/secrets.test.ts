/**
 * No secret in a log, a stored file or an error (issue 5, point 8). A real server with its real
 * logs (app.log at trace level, access.log, audit.log, auth.log) is driven through every failure
 * path a key can meet — forbidden, rate-limited, revoked, wrong, a key pasted into a URL, a field
 * or a WebSocket task id, `ml login` with a refused key — and then every file under the base dir
 * (logs, database, key and ban files) and every error body and CLI output is searched for the key.
 * Only the public lookup prefix (`fml_` + a few characters) may appear.
 */
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

import { request } from 'undici';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { main } from '../../src/cli/main.ts';
import { testIo } from '../../src/cli/shared/test-io.ts';
import { redactSecrets } from '../../src/core/secrets.ts';
import { generateApiKey, hashApiKey } from '../../src/server/auth/api-keys.ts';
import { logDir, openServerLogs } from '../../src/server/logging.ts';
import type { ServerLogs } from '../../src/server/logging.ts';
import { sampleProject, sampleSpec, startTestServer } from '../../src/server/test-helpers.ts';
import type { TestServer } from '../../src/server/test-helpers.ts';
import { allFiles, tempDir } from './helpers.ts';

let t: TestServer;
let logs: ServerLogs;
let url: string;
let agent: Agent;
let tmp: Awaited<ReturnType<typeof tempDir>>;
const project = sampleProject();
/** Every response body and CLI output seen. */
const seen: string[] = [];

/** The parts of `key` that must never be written: the whole key and its secret tail. */
function secretParts(key: string): string[] {
  return [key, key.slice(12), key.slice(20)];
}

beforeAll(async () => {
  tmp = await tempDir('fetchml-sec-secrets-');
  const rolesFile = join(tmp.dir, 'roles.yaml');
  await writeFile(
    rolesFile,
    'roles:\n' +
      '  admin: { permissions: ["*"], rate_limit_per_min: 600 }\n' +
      '  researcher: { permissions: [tasks:create, "tasks:read:own", self:read, commits:read], rate_limit_per_min: 6 }\n',
  );
  // The test server picks its own base dir; its app and access logs go beside it (searched too).
  logs = openServerLogs({
    dir: logDir(tmp.dir),
    level: 'trace',
    maxBytes: 64 * 1024 * 1024,
    keep: 2,
    sync: true,
  });
  t = await startTestServer({
    logs,
    security: { rolesFile, ipAllowlist: ['127.0.0.0/8', '::1'], banAfterFailures: 1000 },
  });
  ({ url } = await t.server.listen());
  agent = new Agent({ connect: { rejectUnauthorized: false } });
  await t.deps.blobs.put(project.data, project.sha);
  await t.deps.store.putCommit(project.commitId, project.manifest);
});
afterAll(async () => {
  await agent.close();
  await t.cleanup();
  await logs.close();
  await tmp.remove();
});

async function call(
  method: string,
  path: string,
  key: string | null,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const res = await request(url + path, {
    method: method as 'GET',
    dispatcher: agent,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  seen.push(text);
  return { status: res.statusCode, text };
}

/** A WebSocket refused at the upgrade (header) or closed at its auth message. */
async function wsAttempt(key: string, how: 'header' | 'message'): Promise<number> {
  const ws = new WebSocket(`${url.replace('https:', 'wss:')}/v1/ws`, {
    rejectUnauthorized: false,
    ...(how === 'header' ? { headers: { authorization: `Bearer ${key}` } } : {}),
  });
  ws.on('message', (d: Buffer) => seen.push(d.toString('utf8')));
  return new Promise((resolve) => {
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => {
        seen.push(text);
        resolve(res.statusCode ?? 0);
      });
    });
    ws.on('open', () => ws.send(JSON.stringify({ op: 'auth', api_key: key })));
    ws.on('close', (code) => resolve(code));
    ws.on('error', () => {});
  });
}

describe('a real key through every failure path', () => {
  let ana: string;
  let anaId: string;

  it('is refused for what it may not do, echoed nowhere', async () => {
    ana = generateApiKey();
    const record = hashApiKey(ana, { user: 'ana', role: 'researcher' });
    anaId = record.id;
    await t.server.keys.add(record);

    expect((await call('GET', '/v1/whoami', ana)).status).toBe(200);
    expect((await call('GET', '/v1/users', ana)).status).toBe(403);
    // Pasted where it does not belong: a task id, a commit id, an unknown route, a body field.
    expect((await call('GET', `/v1/tasks/${ana}`, ana)).status).toBe(404);
    expect((await call('GET', `/v1/commits/${ana}`, ana)).status).toBe(404);
    expect((await call('GET', `/${ana}`, ana)).status).toBe(404);
    const bad = await call('POST', '/v1/tasks', ana, {
      commit_id: ana,
      spec: { ...sampleSpec, deps: `/${ana}` },
    });
    expect(bad.status).toBe(400);
    // Over its rate limit of 6 per minute.
    let limited = 0;
    for (let i = 0; i < 6; i++)
      if ((await call('GET', '/v1/whoami', ana)).status === 429) limited++;
    expect(limited).toBeGreaterThan(0);
  });

  it('once revoked, it is refused over HTTP and WebSocket, echoed nowhere', async () => {
    await t.server.keys.revoke(anaId, new Date().toISOString());
    expect((await call('GET', '/v1/whoami', ana)).status).toBe(401);
    expect(
      (await call('POST', '/v1/tasks', ana, { commit_id: project.commitId, spec: sampleSpec }))
        .status,
    ).toBe(401);
    expect(await wsAttempt(ana, 'header')).toBe(401);
    expect(await wsAttempt(ana, 'message')).toBe(4401);
  });

  it('a well-formed key that was never issued, and the admin key in the wrong place', async () => {
    const never = generateApiKey();
    expect((await call('GET', '/v1/status', never)).status).toBe(401);
    expect(await wsAttempt(never, 'message')).toBe(4401);
    const ws = new WebSocket(`${url.replace('https:', 'wss:')}/v1/ws`, {
      rejectUnauthorized: false,
      headers: { authorization: `Bearer ${t.key}` },
    });
    const errors: string[] = [];
    ws.on('message', (d: Buffer) => {
      seen.push(d.toString('utf8'));
      errors.push(d.toString('utf8'));
    });
    await new Promise<void>((resolve) => ws.once('open', () => resolve()));
    ws.send(JSON.stringify({ op: 'subscribe', task_id: t.key }));
    for (let i = 0; i < 300 && !errors.some((e) => e.includes('"error"')); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(errors.join('\n')).toContain('no such task: fml_…[redacted]');
    ws.close();
  });

  it('ml login with a refused key does not print it', async () => {
    const io = testIo(
      { FETCHML_CLIENT_CONFIG: join(tmp.dir, 'client.json'), FETCHML_HOME: t.home },
      tmp.dir,
    );
    const code = await main(['login', '--server', url, '--key', ana], io);
    expect(code).toBe(1);
    expect(io.err()).toContain('refused the API key from --key');
    seen.push(io.out(), io.err());
  });

  it('appears in no file under the base dir and in no answer', async () => {
    await logs.flush();
    const files = [...(await allFiles(t.home)), ...(await allFiles(logDir(tmp.dir)))];
    const names = files.map((f) => relative(f.path.startsWith(t.home) ? t.home : tmp.dir, f.path));
    // The files this test means to search are really there and really written.
    expect(names).toEqual(
      expect.arrayContaining([
        'logs/app.log',
        'logs/access.log',
        'logs/auth.log',
        'logs/audit.log',
        'keys.json',
        'fetchml.db',
      ]),
    );
    expect(files.find((f) => f.path.endsWith('access.log'))!.data.length).toBeGreaterThan(0);
    for (const key of [ana, t.key]) {
      for (const part of secretParts(key)) {
        for (const f of files) {
          // admin.key holds the admin key by design (0600, written once at first start).
          if (key === t.key && f.path.endsWith('/admin.key')) continue;
          expect(f.data.includes(part), `${f.path} contains a secret part of a key`).toBe(false);
        }
        for (const text of seen) expect(text.includes(part), text.slice(0, 300)).toBe(false);
      }
    }
  });
});

describe('redactSecrets', () => {
  it('cuts key-shaped text to its public prefix and leaves the rest alone', () => {
    const key = generateApiKey();
    expect(redactSecrets(`no such task: "${key}"`)).toBe('no such task: "fml_…[redacted]"');
    expect(redactSecrets('fml_short and task_01J')).toBe('fml_short and task_01J');
  });
});
