/**
 * How many API requests `ml init` + `ml queue` spend, so the default rate limit (30 per minute per
 * key, a burst of 30) keeps room for `ml queue --follow` (one more: the WebSocket) and the rest of
 * a session. Runs as a researcher key at the default limit: any 429 would fail the command.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateApiKey, hashApiKey } from '../server/auth/api-keys.ts';
import { startTestServer } from '../server/test-helpers.ts';
import type { TestServer } from '../server/test-helpers.ts';
import { main } from './main.ts';
import { testIo } from './shared/test-io.ts';

let t: TestServer;
let url: string;
let dir: string;
let project: string;
let env: Record<string, string>;
const seen: string[] = [];

beforeAll(async () => {
  t = await startTestServer();
  t.server.app.addHook('onResponse', async (request, reply) => {
    seen.push(`${request.method} ${request.routeOptions.url ?? request.url} ${reply.statusCode}`);
  });
  ({ url } = await t.server.listen());
  dir = await mkdtemp(join(tmpdir(), 'fetchml-budget-'));
  project = join(dir, 'proj');
  await mkdir(project);
  for (let i = 0; i < 200; i++) await writeFile(join(project, `f${i}.py`), `print(${i})\n`);
  await writeFile(join(project, 'train.py'), 'print("hello")\n');
  await writeFile(join(project, 'requirements.txt'), '# standard library only\n');
  const key = generateApiKey();
  await t.server.keys.add(hashApiKey(key, { user: 'ana', role: 'researcher' }));
  await writeFile(join(dir, 'ana.key'), `${key}\n`);
  env = { FETCHML_CLIENT_CONFIG: join(dir, 'client.json'), HOME: dir };
});
afterAll(async () => {
  await t.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function ml(args: string[]) {
  const io = testIo(env, project);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('request budget of a researcher session', () => {
  it('init + queue of a 200-file project stay far under the 30-request burst', async () => {
    const init = await ml(['init', '--server', url, '--key-file', join(dir, 'ana.key'), '--yes']);
    expect(init.err).toBe('');
    const before = seen.length;
    const queued = await ml(['queue']);
    expect(queued.code, queued.err).toBe(0);
    const used = seen.slice(before);
    expect(used.every((line) => !line.endsWith(' 429'))).toBe(true);
    expect(used.length, used.join('\n')).toBeLessThanOrEqual(8);
    expect(seen.length, seen.join('\n')).toBeLessThanOrEqual(12);
  });
});
