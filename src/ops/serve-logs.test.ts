/**
 * @module ops/serve-logs.test
 * `fetchml server --log-level …` in-process: the JSON logs land in `<home>/logs` (app.log with
 * start and stop, access.log with each request), are flushed at shutdown, and hold no API key;
 * a bad level is a clear config error.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { testIo } from '../cli/shared/test-io.ts';
import { generateApiKey } from '../server/auth/api-keys.ts';
import { main } from './main.ts';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fetchml-serve-logs-'));
});
afterEach(() => rm(home, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function get(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('fetchml server --log-level', () => {
  it('writes app.log and access.log under <home>/logs, flushed at stop, without keys', async () => {
    const port = await freePort();
    const io = testIo({ FETCHML_HOME: home }, home);
    const running = main(['server', '--port', String(port), '--log-level', 'debug', '--json'], io);
    const banner = await until('the start-up banner', () => {
      const url = /"url": "(https:[^"]+)"/.exec(io.out())?.[1];
      const key = /"admin_key": "(fml_[^"]+)"/.exec(io.out())?.[1];
      return url && key ? { url, key } : undefined;
    });
    const wrong = generateApiKey();
    expect(await get(`${banner.url}/v1/whoami`, { authorization: `Bearer ${banner.key}` })).toBe(
      200,
    );
    expect(await get(`${banner.url}/v1/whoami`, { authorization: `Bearer ${wrong}` })).toBe(401);
    process.emit('SIGTERM', 'SIGTERM'); // what a real SIGTERM does
    expect(await running).toBe(0);

    const dir = join(home, 'logs');
    const lines = async (name: string) =>
      (await readFile(join(dir, name), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const access = await lines('access.log');
    expect(access.map((a) => [a['route'], a['status'], a['user']])).toEqual([
      ['/v1/whoami', 200, 'admin'],
      ['/v1/whoami', 401, null],
    ]);
    const app = await lines('app.log');
    const messages = app.map((a) => a['msg']);
    expect(messages).toContain('server started');
    expect(messages).toContain('SIGTERM: stopping (again to force)');
    expect(messages.at(-1)).toBe('stopped');
    expect(app.find((a) => a['msg'] === 'server started')).toMatchObject({
      level: 30,
      url: banner.url,
      pid: process.pid,
    });

    const files = await readdir(dir);
    expect(files).toEqual(expect.arrayContaining(['app.log', 'access.log', 'audit.log']));
    for (const name of files) {
      const text = await readFile(join(dir, name), 'utf8');
      for (const secret of [banner.key, wrong, banner.key.slice(4), wrong.slice(4, 12)]) {
        expect(text.includes(secret), `${name} contains a key`).toBe(false);
      }
    }
  }, 120_000);

  it('refuses an unknown level, naming the flag, and starts nothing', async () => {
    const io = testIo({ FETCHML_HOME: home }, home);
    const code = await main(['server', '--log-level', 'loud'], io);
    expect(code).not.toBe(0);
    expect(io.err()).toContain('--log-level');
    expect(existsSync(join(home, 'logs'))).toBe(false);
  });
});
