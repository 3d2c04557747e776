/**
 * @module server/logging.test
 * The JSON logs: size rotation of a log file (whole lines, `keep` old files), access.log lines
 * from a real server (fields, never a key), app.log getting the server's own errors, levels.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { generateApiKey } from './auth/api-keys.ts';
import { openRotatingFile } from './logging-file.ts';
import { logDir, openServerLogs } from './logging.ts';
import type { AccessLine } from './logging.ts';
import { startTestServer } from './test-helpers.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fetchml-logging-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const line = (i: number) => `${JSON.stringify({ i, pad: 'x'.repeat(40) })}\n`; // 57 bytes
const readLines = async (path: string) =>
  existsSync(path) ? (await readFile(path, 'utf8')).split('\n').slice(0, -1) : [];

describe('rotating log file', () => {
  it('rotates past max bytes, keeps `keep` old files, splits no line (sync)', async () => {
    const path = join(dir, 'logs', 'app.log');
    const file = openRotatingFile(path, { maxBytes: 200, keep: 2, sync: true });
    for (let i = 0; i < 20; i++) file.write(line(i));
    await file.close();
    expect((await readdir(join(dir, 'logs'))).sort()).toEqual([
      'app.log',
      'app.log.1',
      'app.log.2',
    ]);
    // The 4th line (228 bytes) passes 200: the file rotates after it. The newest 8 lines are
    // kept, in order, each whole; app.log has just been started.
    const ids = async (p: string) =>
      (await readLines(p)).map((l) => (JSON.parse(l) as { i: number }).i);
    expect(await ids(`${path}.2`)).toEqual([12, 13, 14, 15]);
    expect(await ids(`${path}.1`)).toEqual([16, 17, 18, 19]);
    expect(await ids(path)).toEqual([]);
  });

  it('loses no line when it rotates while writing asynchronously', async () => {
    const path = join(dir, 'access.log');
    const file = openRotatingFile(path, { maxBytes: 4000, keep: 50 });
    // Lines of one event-loop turn go out in one write; rotation happens between writes, also
    // while more lines wait in the queue (written during the write in flight).
    for (let i = 0; i < 1500; i += 20) {
      for (let j = i; j < i + 10; j++) file.write(line(j));
      await new Promise((r) => setImmediate(r));
      for (let j = i + 10; j < i + 20; j++) file.write(line(j));
      await file.flush();
    }
    await file.close();
    const names = (await readdir(dir)).filter((n) => n.startsWith('access.log'));
    expect(names.length).toBeGreaterThan(10);
    const order = names.sort((a, b) => Number(b.split('.')[2] ?? 0) - Number(a.split('.')[2] ?? 0));
    const all: number[] = [];
    for (const n of order) {
      for (const l of await readLines(join(dir, n))) all.push((JSON.parse(l) as { i: number }).i);
    }
    expect(all).toEqual(Array.from({ length: 1500 }, (_, k) => k));
  });

  it('only reopens when another process already rotated the file', async () => {
    const path = join(dir, 'app.log');
    const file = openRotatingFile(path, { maxBytes: 200, keep: 3, sync: true });
    file.write(line(0));
    await rename(path, `${path}.1`); // the other process's rotation
    for (let i = 1; i < 4; i++) file.write(line(i)); // lines 1-3 still reach the moved file
    file.write(line(4));
    await file.close();
    expect(existsSync(`${path}.2`)).toBe(false);
    expect(await readLines(path)).toEqual([line(4).trimEnd()]);
  });
});

describe('server logs', () => {
  it('access.log: one line per request with its fields; no key anywhere in the logs', async () => {
    const logs = openServerLogs({
      dir: logDir(dir),
      level: 'debug',
      maxBytes: 1 << 20,
      keep: 2,
      sync: true,
    });
    const t = await startTestServer({ home: dir, logs });
    try {
      t.server.app.get('/boom', { config: { public: true } }, () => {
        throw new Error('kaboom inside');
      });
      const wrong = generateApiKey();
      const requests = [
        { url: '/v1/whoami', headers: t.auth, status: 200 },
        { url: '/v1/whoami', headers: { authorization: `Bearer ${wrong}` }, status: 401 },
        { url: '/v1/nope?token=abc', headers: t.auth, status: 404 },
        { url: '/boom', headers: {}, status: 500 },
      ];
      for (const r of requests) {
        const res = await t.server.app.inject({ method: 'GET', url: r.url, headers: r.headers });
        expect(res.statusCode, r.url).toBe(r.status);
      }
      await logs.flush();
      const access = (await readLines(join(logDir(dir), 'access.log'))).map(
        (l) => JSON.parse(l) as AccessLine & { level: number; time: string },
      );
      expect(access.map((a) => [a.method, a.route ?? a.path, a.status, a.user])).toEqual([
        ['GET', '/v1/whoami', 200, 'admin'],
        ['GET', '/v1/whoami', 401, null],
        ['GET', '/v1/nope', 404, 'admin'],
        ['GET', '/boom', 500, null],
      ]);
      expect(Object.keys(access[0]!).sort()).toEqual(
        ['level', 'time', 'req_id', 'method', 'route', 'status', 'ms', 'ip', 'user'].sort(),
      );
      expect(access[0]).toMatchObject({ level: 30, ip: '127.0.0.1' });
      expect(typeof access[0]!.ms).toBe('number');
      expect(new Set(access.map((a) => a.req_id)).size).toBe(4);

      // The 500's error and stack are in app.log, with its request id.
      const app = (await readLines(join(logDir(dir), 'app.log'))).map(
        (l) =>
          JSON.parse(l) as { level: number; msg: string; reqId?: string; err?: { stack: string } },
      );
      const failed = app.find((a) => a.msg === 'request failed')!;
      expect(failed).toMatchObject({ level: 50, reqId: access[3]!.req_id });
      expect(failed.err!.stack).toContain('kaboom inside');

      for (const name of await readdir(logDir(dir))) {
        const text = await readFile(join(logDir(dir), name), 'utf8');
        for (const secret of [t.key, wrong, t.key.slice(4), wrong.slice(4, 12)]) {
          expect(text.includes(secret), `${name} contains a key`).toBe(false);
        }
      }
    } finally {
      await t.cleanup();
      await logs.close();
    }
  });

  it('level: lines below it are dropped; silent opens no file', async () => {
    const warn = openServerLogs({
      dir: join(dir, 'a'),
      level: 'warn',
      maxBytes: 1 << 20,
      keep: 1,
      sync: true,
    });
    warn.app.info('not written');
    warn.app.warn({ task_id: 't1' }, 'written');
    await warn.close();
    const lines = (await readLines(join(dir, 'a', 'app.log'))).map(
      (l) => JSON.parse(l) as Record<string, unknown>,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: 'written', task_id: 't1', pid: process.pid });

    const silent = openServerLogs({
      dir: join(dir, 'b'),
      level: 'silent',
      maxBytes: 1 << 20,
      keep: 1,
    });
    silent.app.error('nothing');
    expect(silent.access).toBeNull();
    await silent.close();
    expect(existsSync(join(dir, 'b'))).toBe(false);
  });

  it('redacts key-like fields in the app log', async () => {
    const logs = openServerLogs({
      dir,
      level: 'info',
      maxBytes: 1 << 20,
      keep: 1,
      sync: true,
      access: false,
    });
    logs.app.info({ headers: { authorization: 'Bearer fml_x' }, admin_key: 'fml_y' }, 'careful');
    await logs.close();
    const text = await readFile(join(dir, 'app.log'), 'utf8');
    expect(text).not.toContain('fml_');
    expect(text).toContain('[redacted]');
    expect(existsSync(join(dir, 'access.log'))).toBe(false);
  });
});
