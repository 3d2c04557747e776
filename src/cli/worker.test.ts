/**
 * `ml queue --follow` end to end in one process: a real HTTPS server and a real worker (process
 * runtime) on the same embedded backends; the run's log streams back over the WebSocket, the exit
 * code comes through, and `ml info` shows the manifest with its artifacts.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ProcessRuntime } from '../runtime/index.ts';
import { startTestServer } from '../server/test-helpers.ts';
import type { TestServer } from '../server/test-helpers.ts';
import type { FetchmlWorker } from '../worker/index.ts';
import { testWorker } from '../worker/test-helpers.ts';
import { main } from './main.ts';
import { testIo } from './shared/test-io.ts';

let t: TestServer;
let worker: FetchmlWorker;
let dir: string;
let env: Record<string, string>;

async function ml(args: string[], cwd: string) {
  const io = testIo(env, cwd);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

async function project(name: string, script: string): Promise<string> {
  const p = join(dir, name);
  await mkdir(p);
  await writeFile(join(p, 'train.py'), script);
  // The strict preflight wants a dependency manifest; these jobs use only the standard library.
  await writeFile(join(p, 'requirements.txt'), '# standard library only\n');
  return p;
}

beforeAll(async () => {
  t = await startTestServer();
  const { url } = await t.server.listen();
  worker = testWorker(
    { home: t.home, ...t.deps, cleanup: () => Promise.resolve() },
    new ProcessRuntime({ killGraceMs: 1000 }),
  );
  await worker.start();
  dir = await mkdtemp(join(tmpdir(), 'fetchml-cli-worker-'));
  env = { FETCHML_CLIENT_CONFIG: join(dir, 'client.json'), FETCHML_HOME: t.home, HOME: dir };
  const first = await project('setup', 'pass\n');
  expect((await ml(['init', '--server', url], first)).code).toBe(0);
});
afterAll(async () => {
  await worker.stop({ graceful: false, timeoutMs: 5000 });
  await t.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('ml with a worker', () => {
  it('queue --follow streams the log to completion; info shows the manifest', async () => {
    const p = await project(
      'ok',
      'import os\nfor i in range(3):\n    print(f"step {i}", flush=True)\n' +
        'open(os.path.join(os.environ["FETCHML_OUTPUT"], "model.txt"), "w").write("w=1\\n")\n',
    );
    expect((await ml(['init'], p)).code).toBe(0);
    const r = await ml(['queue', '--follow'], p);
    expect(r.err).toContain('completed');
    expect(r.code).toBe(0);
    const [id, ...log] = r.out.split('\n');
    expect(id).toMatch(/^task_/);
    expect(log.join('\n')).toContain('step 0\nstep 1\nstep 2\n');

    const info = await ml(['info', id!.slice(5, 17)], p);
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/status:\s+completed \(exit 0\)/);
    expect(info.out).toContain('model.txt');
  });

  it('logs -f exits with the exit code of a failed task', async () => {
    const p = await project('bad', 'import sys\nprint("oops", flush=True)\nsys.exit(3)\n');
    expect((await ml(['init'], p)).code).toBe(0);
    const q = await ml(['queue'], p);
    expect(q.code).toBe(0);
    const r = await ml(['logs', '-f', q.out.trim()], p);
    expect(r.out).toContain('oops\n');
    expect(r.err).toContain('failed (exit 3)');
    expect(r.code).toBe(3);
  });
});
