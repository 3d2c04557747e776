/**
 * `ml` against a real server: createServer on SQLite + fs blobs + memory events in a temp home,
 * listening on 127.0.0.1:0 over real HTTPS, driven through `main()` with recording IO.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { normalizeFingerprint } from '../client/index.ts';
import { taskFiles } from '../core/layout.ts';
import { startTestServer } from '../server/test-helpers.ts';
import type { TestServer } from '../server/test-helpers.ts';
import { main } from './main.ts';
import { readClientConfig } from './shared/client-config.ts';
import { testIo } from './shared/test-io.ts';

let t: TestServer;
let url: string;
let dir: string;
let project: string;
let env: Record<string, string>;

async function ml(args: string[], cwd = project, extraEnv: Record<string, string> = {}) {
  const io = testIo({ ...env, ...extraEnv }, cwd);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

async function mlJson<T>(args: string[], cwd = project): Promise<T> {
  const r = await ml(['--json', ...args], cwd);
  expect(r.err, `stderr of ml ${args.join(' ')}`).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as T;
}

beforeAll(async () => {
  t = await startTestServer();
  ({ url } = await t.server.listen());
  dir = await mkdtemp(join(tmpdir(), 'fetchml-cli-'));
  project = join(dir, 'my-proj');
  await mkdir(project);
  await writeFile(join(project, 'train.py'), 'print("hello")\n');
  await writeFile(join(project, 'requirements.txt'), '# standard library only\n');
  env = { FETCHML_CLIENT_CONFIG: join(dir, 'client.json'), FETCHML_HOME: t.home, HOME: dir };
});
afterAll(async () => {
  await t.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('ml against a real server', () => {
  it('init writes the project files and pins the certificate with the admin key from FETCHML_HOME', async () => {
    const r = await ml(['init', '--server', url]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('written fetchml.yaml');
    expect(r.out).toContain('logged in to');
    const spec = await readFile(join(project, 'fetchml.yaml'), 'utf8');
    expect(spec).toContain('name: my-proj');
    expect(spec).toContain('command: python3 train.py');
    expect(await readFile(join(project, '.mlignore'), 'utf8')).toContain('__pycache__/');
    const cfgPath = join(dir, 'client.json');
    expect((await stat(cfgPath)).mode & 0o777).toBe(0o600);
    const cfg = readClientConfig(cfgPath);
    expect(cfg.default).toBe(url);
    expect(cfg.servers[url]).toMatchObject({ api_key: t.key, user: 'admin', role: 'admin' });
    expect(cfg.servers[url]!.fingerprint).toBe(normalizeFingerprint(t.server.fingerprint));

    const again = await ml(['init']);
    expect(again.code).toBe(0);
    expect(again.out).toContain('kept fetchml.yaml');
    expect(again.out).toContain('matches the pin');
  });

  it('whoami answers from the server', async () => {
    expect(await mlJson(['whoami'])).toMatchObject({ user: 'admin', role: 'admin', server: url });
  });

  it('sync uploads new blobs once; the second sync uploads none', async () => {
    const first = await mlJson<{ commit_id: string; new_blobs: number; files: number }>(['sync']);
    expect(first.commit_id).toMatch(/^[0-9a-f]{64}$/);
    expect(first.files).toBe(4);
    expect(first.new_blobs).toBe(4);
    const second = await mlJson<{ commit_id: string; new_blobs: number; uploaded_bytes: number }>([
      'sync',
    ]);
    expect(second).toMatchObject({ commit_id: first.commit_id, new_blobs: 0, uploaded_bytes: 0 });
    const human = await ml(['sync']);
    expect(human.out).toMatch(/^commit [0-9a-f]{64}\n {2}4 files .* 0 new blobs/);
  });

  it('queue → status → logs → info → cancel', async () => {
    const q = await ml(['queue', '--priority', '5', '--memory', '2g', '--', '--lr', '0.1']);
    expect(q.code).toBe(0);
    const id = q.out.trim();
    expect(id).toMatch(/^task_[0-9A-Z]{26}$/);
    expect(q.err).toContain('queued my-proj');

    const task = await mlJson<{
      id: string;
      priority: number;
      resources: { memory_mb: number };
      plan: { args: string[] };
    }>(['info', id.slice(5, 17)]).catch(() => null);
    expect(task).toBeNull(); // --json info needs a manifest (none before a worker runs it)

    const status = await mlJson<{
      tasks: {
        id: string;
        priority: number;
        status: string;
        resources: { memory_mb: number };
        plan: { args: string[] };
      }[];
      counts: Record<string, number>;
    }>(['status']);
    const row = status.tasks.find((x) => x.id === id)!;
    expect(row).toMatchObject({ priority: 5, status: 'queued', resources: { memory_mb: 2048 } });
    expect(row.plan.args).toEqual(['--lr', '0.1']);
    expect(status.counts['queued']).toBeGreaterThanOrEqual(1);
    const table = await ml(['status']);
    expect(table.out).toMatch(/ID\s+NAME\s+STATUS\s+PRIO\s+ATTEMPT\s+AGE\s+DURATION\s+EXIT/);
    expect(table.out).toContain(id.slice(5, 17));
    expect(table.out).toContain('workers: none (start one: fetchml up, or fetchml worker)');

    const log = taskFiles(t.home).logPath(id);
    await mkdir(dirname(log), { recursive: true });
    await writeFile(log, 'epoch 1\nepoch 2\n');
    const logs = await ml(['logs', id.slice(5, 17)]);
    expect(logs).toMatchObject({ code: 0, out: 'epoch 1\nepoch 2\n' });

    const info = await ml(['info', id]);
    expect(info.code).toBe(0);
    expect(info.out).toContain('no run manifest yet');
    expect(info.out).toContain('python3 train.py --lr 0.1');

    const cancel = await ml(['cancel', id, 'task_00000000000000000000000000']);
    expect(cancel.code).toBe(1);
    expect(cancel.out).toContain(`${id}: cancelled (removed from the queue)`);
    expect(cancel.err).toContain('error: task_00000000000000000000000000');

    // A finished task: logs -f replays the log and exits with the task's code (130 cancelled).
    const follow = await ml(['logs', '-f', id]);
    expect(follow.out).toBe('epoch 1\nepoch 2\n');
    expect(follow.err).toContain('cancelled');
    expect(follow.code).toBe(130);
  });

  it('names the field of an invalid fetchml.yaml, and prints the preflight failure', async () => {
    const bad = join(dir, 'bad');
    await mkdir(bad);
    await writeFile(
      join(bad, 'fetchml.yaml'),
      'name: bad\ncommand: python3 x.py\nresources:\n  memory: lots\n',
    );
    const r = await ml(['queue'], bad);
    expect(r.code).toBe(1);
    expect(r.err).toContain('resources.memory');

    await writeFile(join(bad, 'fetchml.yaml'), 'name: bad\ncommand: python3 missing.py\n');
    const p = await ml(['queue'], bad);
    expect(p.code).toBe(1);
    expect(p.err).toContain('missing.py');
    expect(p.err).toContain('preflight');
  });

  it('refuses a changed certificate and says how to re-pin', async () => {
    const cfgPath = join(dir, 'client.json');
    const cfg = readClientConfig(cfgPath);
    const pinned = cfg.servers[url]!.fingerprint;
    cfg.servers[url]!.fingerprint = normalizeFingerprint('00'.repeat(32));
    await writeFile(cfgPath, JSON.stringify(cfg));
    const r = await ml(['status']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('changed');
    expect(r.err).toContain('ml login --force');
    const fixed = await ml(['login', '--force']);
    expect(fixed.code).toBe(0);
    expect(readClientConfig(cfgPath).servers[url]!.fingerprint).toBe(pinned);
  });

  it('says to start the server when it is unreachable', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createNetServer().listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a ? a.port : 1));
      });
    });
    const gone = `https://127.0.0.1:${port}`;
    // A key alone is not enough: the server's certificate must have been pinned by ml login.
    const unpinned = await ml(['--server', gone, 'status'], project, { FETCHML_API_KEY: t.key });
    expect(unpinned.code).toBe(1);
    expect(unpinned.err).toContain(
      `no pinned certificate for ${gone}: run \`ml login --server ${gone}\``,
    );
    const cfgPath = join(dir, 'client.json');
    const cfg = readClientConfig(cfgPath);
    cfg.servers[gone] = { api_key: t.key, fingerprint: cfg.servers[url]!.fingerprint };
    await writeFile(cfgPath, JSON.stringify(cfg));
    const r = await ml(['--server', gone, 'status'], project);
    expect(r.code).toBe(1);
    expect(r.err).toContain('fetchml up');
  });
});
