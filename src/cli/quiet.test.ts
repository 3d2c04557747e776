/**
 * `ml --quiet` against a real server: results still reach stdout, stderr keeps nothing but
 * problems; without it the same commands tell what they did on stderr.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestServer } from '../server/test-helpers.ts';
import type { TestServer } from '../server/test-helpers.ts';
import { main } from './main.ts';
import { testIo } from './shared/test-io.ts';

let t: TestServer;
let dir: string;
let project: string;
let env: Record<string, string>;

async function ml(args: string[]) {
  const io = testIo(env, project);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

beforeAll(async () => {
  t = await startTestServer();
  const { url } = await t.server.listen();
  dir = await mkdtemp(join(tmpdir(), 'fetchml-quiet-'));
  project = join(dir, 'proj');
  await mkdir(project);
  await writeFile(join(project, 'train.py'), 'print("hi")\n');
  env = { FETCHML_CLIENT_CONFIG: join(dir, 'client.json'), FETCHML_HOME: t.home, HOME: dir };
  expect((await ml(['init', '--server', url])).code).toBe(0);
  await writeFile(
    join(project, 'fetchml.yaml'),
    'name: proj\ncommand: python3 train.py\ndeps: none\n',
  );
});
afterAll(async () => {
  await t.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('ml --quiet', () => {
  it('queue prints the task id only; without --quiet the notes go to stderr', async () => {
    const loud = await ml(['queue']);
    expect(loud.code).toBe(0);
    expect(loud.err).toContain('queued proj as task_');
    const quiet = await ml(['--quiet', 'queue']);
    expect(quiet.code).toBe(0);
    expect(quiet.out).toMatch(/^task_[0-9A-Z]{26}\n$/);
    // The test server has no worker: that warning stays, every note goes.
    const warning =
      'warning: no worker is online: the task waits until one starts (`fetchml up` or `fetchml worker`)\n';
    expect(loud.err).toContain(warning);
    expect(quiet.err).toBe(warning);
    const short = await ml(['queue', '-q']);
    expect(short.err).toBe(warning);
  });

  it('errors still print under --quiet', async () => {
    const r = await ml(['--quiet', 'logs', 'ZZZZ']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: no task matches "ZZZZ"\n');
  });
});
