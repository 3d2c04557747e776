/**
 * `ml watch` with real files and a real server (HTTPS, SQLite): an editor's atomic save is one
 * sync, a burst of writes is one sync, ignored paths and editors' temporary files trigger
 * nothing, `--queue` submits each new commit (not the first, not an unchanged one), running out
 * of watchers falls back to polling, and the built binary stops on SIGINT (130) and SIGTERM (0).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureBuilt } from '../../../test/support/dist.ts';
import { sha256Hex } from '../../core/hash.ts';
import { startTestServer } from '../../server/test-helpers.ts';
import type { TestServer } from '../../server/test-helpers.ts';
import type { StopSource, WatchOptions, WatchStats } from '../commands/watch.ts';
import { runWatch } from '../commands/watch.ts';
import { main } from '../main.ts';
import { defaultClientFactory } from '../shared/connect.ts';
import { testIo } from '../shared/test-io.ts';
import type { WatchFn } from './tree-watcher.ts';

let t: TestServer;
let dir: string;
let env: Record<string, string>;
let n = 0;

beforeAll(async () => {
  t = await startTestServer();
  const { url } = await t.server.listen();
  dir = await mkdtemp(join(tmpdir(), 'fetchml-watch-'));
  env = { FETCHML_CLIENT_CONFIG: join(dir, 'client.json'), FETCHML_HOME: t.home, HOME: dir };
  const io = testIo(env, dir);
  expect(await main(['login', '--server', url, '--yes'], io), io.err()).toBe(0);
});
afterAll(async () => {
  await t.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** A fresh project: fetchml.yaml, train.py, a .gitignore'd node_modules with nested dirs. */
async function project(): Promise<string> {
  const root = join(dir, `proj-${++n}`);
  await mkdir(join(root, 'node_modules', 'a', 'b', 'c'), { recursive: true });
  await mkdir(join(root, 'src'));
  await writeFile(join(root, 'fetchml.yaml'), 'name: w\ncommand: python3 train.py\ndeps: none\n');
  await writeFile(join(root, 'train.py'), 'print("v1")\n');
  await writeFile(join(root, '.gitignore'), 'node_modules/\n');
  await writeFile(join(root, '.mlignore'), 'output/\n*.log\n');
  return root;
}

interface Running {
  io: ReturnType<typeof testIo>;
  stats(): WatchStats;
  events(): Array<Record<string, unknown>>;
  stop(signal: string): void;
  force(): void;
  done: Promise<number>;
}

function watch(root: string, opts: WatchOptions = {}, watchFn?: WatchFn): Running {
  const io = testIo(env, root);
  let stats: WatchStats = { syncs: 0, queued: 0, errors: 0 };
  let stop!: (s: string) => void;
  let force!: (s: string) => void;
  const source: StopSource = {
    requested: new Promise((r) => (stop = r)),
    forced: new Promise((r) => (force = r)),
    dispose() {},
  };
  const deps = { io, cwd: root, clientFactory: defaultClientFactory, now: Date.now };
  const done = runWatch(
    deps,
    { json: true, debounce: 300, ...opts },
    [],
    source,
    (s) => (stats = s),
    watchFn,
  );
  return {
    io,
    stats: () => stats,
    events: () =>
      io
        .out()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: (s) => stop(s),
    force: () => force('SIGINT'),
    done,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Waits for `count` syncs, then a quiet second more, and returns the sync count then. */
async function settledSyncs(w: Running, count: number): Promise<number> {
  await until(`${count} syncs`, () => w.stats().syncs >= count);
  await sleep(1200);
  return w.stats().syncs;
}

describe('ml watch', () => {
  it('an atomic save (write a temp file, rename it over) is exactly one sync of the new content', async () => {
    const root = await project();
    const w = watch(root);
    await until('the first sync', () => w.stats().syncs === 1);
    await until('the watching note', () => w.io.err().includes('watching'));
    // node_modules/ and its subdirectories are ignored, so not watched: root, src.
    expect(w.io.err()).toContain(`watching ${root} (2 directories)`);

    const text = 'print("v2")\n';
    await writeFile(join(root, '.train.py.tmp1234'), text);
    await rename(join(root, '.train.py.tmp1234'), join(root, 'train.py'));
    expect(await settledSyncs(w, 2)).toBe(2);

    const sync = w.events().filter((e) => e['event'] === 'sync')[1]!;
    expect(sync['changed']).toBe(true);
    const manifest = await t.deps.store.getCommit(sync['commit_id'] as string);
    const entry = manifest?.entries.find((e) => e.path === 'train.py');
    expect(entry).toMatchObject({ sha256: sha256Hex(text) });
    expect(manifest?.entries.some((e) => e.path.includes('tmp1234'))).toBe(false);
    w.stop('SIGTERM');
    expect(await w.done).toBe(0);
    expect(w.io.err()).toContain('stopped: 2 syncs, 0 queued, 0 failed');
  });

  it('a burst of writes (and a new directory with files) collapses into one sync', async () => {
    const root = await project();
    const w = watch(root);
    await until('the first sync', () => w.stats().syncs === 1);
    await until('the watching note', () => w.io.err().includes('watching'));
    for (let i = 0; i < 20; i++) {
      await writeFile(join(root, 'src', `m${i}.py`), `x = ${i}\n`);
      await sleep(5);
    }
    await mkdir(join(root, 'src', 'pkg'));
    await writeFile(join(root, 'src', 'pkg', 'mod.py'), 'y = 1\n');
    expect(await settledSyncs(w, 2)).toBe(2);
    const last = w.events().filter((e) => e['event'] === 'sync')[1]!;
    expect(last['files']).toBe(25); // fetchml.yaml, train.py, .gitignore, .mlignore + 21 new
    // The new directory is watched too.
    await writeFile(join(root, 'src', 'pkg', 'mod.py'), 'y = 2\n');
    expect(await settledSyncs(w, 3)).toBe(3);
    w.stop('SIGINT');
    expect(await w.done).toBe(130);
  });

  it('ignored paths and editor temporaries trigger nothing', async () => {
    const root = await project();
    const w = watch(root);
    await until('the first sync', () => w.stats().syncs === 1);
    await until('the watching note', () => w.io.err().includes('watching'));
    await mkdir(join(root, 'output'));
    await mkdir(join(root, '.fetchml'), { recursive: true });
    await mkdir(join(root, '.git'));
    await writeFile(join(root, 'node_modules', 'a', 'b', 'c', 'dep.js'), 'x');
    await writeFile(join(root, 'output', 'model.bin'), 'weights');
    await writeFile(join(root, 'run.log'), 'log line');
    await writeFile(join(root, '.fetchml', 'state'), 'x');
    await writeFile(join(root, '.git', 'HEAD'), 'ref: refs/heads/main');
    await writeFile(join(root, '.train.py.swp'), 'swap');
    await writeFile(join(root, 'train.py~'), 'backup');
    await writeFile(join(root, '4913'), '');
    await sleep(1500);
    expect(w.stats().syncs).toBe(1);
    w.stop('SIGTERM');
    expect(await w.done).toBe(0);
  });

  it('--queue submits each new commit, not the first one and not an unchanged tree', async () => {
    const root = await project();
    const w = watch(root, { queue: true, priority: 7 });
    await until('the first sync', () => w.stats().syncs === 1);
    await until('the watching note', () => w.io.err().includes('and are queued'));
    expect(w.stats().queued).toBe(0);
    await writeFile(join(root, 'train.py'), 'print("v3")\n');
    await until('a queued task', () => w.stats().queued === 1);
    const queued = w.events().find((e) => e['event'] === 'queued')!;
    const task = await t.deps.store.getTask(queued['task_id'] as string);
    expect(task).toMatchObject({ status: 'queued', priority: 7, name: 'w' });
    expect(task?.commit_id).toBe(queued['commit_id']);
    // Same bytes written again: a sync that finds the same commit, and no new task.
    await writeFile(join(root, 'train.py'), 'print("v3")\n');
    expect(await settledSyncs(w, 3)).toBe(3);
    expect(w.events().filter((e) => e['event'] === 'sync')[2]!['changed']).toBe(false);
    expect(w.stats().queued).toBe(1);
    w.stop('SIGTERM');
    expect(await w.done).toBe(0);
  });

  it('when file watchers run out it says what to do and polls instead', async () => {
    const root = await project();
    const failing: WatchFn = () => {
      throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), {
        code: 'ENOSPC',
      });
    };
    const w = watch(root, { poll: 200 }, failing);
    await until('the first sync', () => w.stats().syncs === 1);
    await until('the warning', () => w.io.err().includes('warning:'));
    expect(w.io.err()).toContain("warning: the system's file watchers ran out after 0 directories");
    expect(w.io.err()).toContain('watching by polling instead');
    expect(w.io.err()).toContain('sudo sysctl fs.inotify.max_user_watches=524288');
    await writeFile(join(root, 'train.py'), 'print("polled")\n');
    const changed = () =>
      w.events().filter((e) => e['event'] === 'sync' && e['changed'] === true).length;
    await until('a polled sync that changed', () => changed() === 2);
    // Polls of an unchanged tree sync nothing (no request, no line).
    const syncs = w.stats().syncs;
    await sleep(1000);
    expect(w.stats().syncs).toBe(syncs);
    w.stop('SIGTERM');
    expect(await w.done).toBe(0);
  });

  it('a project without fetchml.yaml cannot use --queue (nothing is watched)', async () => {
    const bare = join(dir, 'bare');
    await mkdir(bare, { recursive: true });
    const w = watch(bare, { queue: true });
    await expect(w.done).rejects.toMatchObject({ code: 'ML_ERR_SPEC_INVALID' });
    expect(w.stats().syncs).toBe(0);
  });
});

describe('bin/ml.js watch', () => {
  beforeAll(ensureBuilt, 300_000);
  const bin = fileURLToPath(new URL('../../../bin/ml.js', import.meta.url));

  async function stopWith(signal: NodeJS.Signals): Promise<{ code: number | null; err: string }> {
    const root = await project();
    const child = spawn(process.execPath, [bin, 'watch'], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await until('the watching note', () => err.includes('watching'), 60_000);
    child.kill(signal);
    return { code: await exited, err };
  }

  it('SIGINT stops it with 130, SIGTERM with 0', async () => {
    const int = await stopWith('SIGINT');
    expect(int.err).toContain('stopped: 1 syncs');
    expect(int.code).toBe(130);
    const term = await stopWith('SIGTERM');
    expect(term.code).toBe(0);
  }, 120_000);
});
