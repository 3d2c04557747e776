/**
 * `ml explain`, `ml validate`, `ml info` and `ml compare` end to end in one process: a real HTTPS
 * server and a real worker (process runtime) on the same embedded backends, driven through
 * `main()`. Every refusal is checked for its message naming what is missing or wrong, and for
 * leaving nothing queued.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { taskFiles } from '../core/layout.ts';
import type { CompareResponse } from '../core/schemas/compare.ts';
import type { RunManifest } from '../core/schemas/manifest.ts';
import type { Task } from '../core/schemas/task.ts';
import { ProcessRuntime } from '../runtime/index.ts';
import { startTestServer } from '../server/test-helpers.ts';
import type { TestServer } from '../server/test-helpers.ts';
import type { FetchmlWorker } from '../worker/index.ts';
import { testWorker } from '../worker/test-helpers.ts';
import type { ExplainResult } from './commands/explain.ts';
import type { ValidateResult } from './commands/validate.ts';
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

async function mlJson<T>(args: string[], cwd: string, code = 0): Promise<T> {
  const r = await ml(['--json', ...args], cwd);
  expect(r.code, `ml ${args.join(' ')}: ${r.err}`).toBe(code);
  return JSON.parse(r.out) as T;
}

const TRAIN = `import json, os, sys
lr = float(sys.argv[sys.argv.index("--lr") + 1]) if "--lr" in sys.argv else 0.1
with open(os.environ["FETCHML_METRICS"], "a") as f:
    for step in range(1, 4):
        f.write(json.dumps({"step": step, "loss": round(1.0 / (step * lr * 10), 4)}) + "\\n")
print("done", lr)
`;

/** A project dir with fetchml.yaml, train.py and (unless `deps` is false) requirements.txt. */
async function project(
  name: string,
  opts: { spec?: string; deps?: boolean; train?: string } = {},
): Promise<string> {
  const p = join(dir, name);
  await mkdir(p, { recursive: true });
  await writeFile(
    join(p, 'fetchml.yaml'),
    opts.spec ?? `name: ${name}\ncommand: python3 train.py\nresources:\n  memory: 256m\n`,
  );
  await writeFile(join(p, 'train.py'), opts.train ?? TRAIN);
  if (opts.deps !== false) await writeFile(join(p, 'requirements.txt'), '# stdlib only\n');
  return p;
}

async function taskCount(): Promise<number> {
  return Object.values(await t.deps.store.countTasksByStatus()).reduce((a, b) => a + b, 0);
}

/** Queues in `p` and follows the task to its end; returns its id. */
async function run(p: string, args: string[] = []): Promise<string> {
  const q = await ml(['queue', '--', ...args], p);
  expect(q.code, q.err).toBe(0);
  const id = q.out.trim();
  const f = await ml(['logs', '-f', id], p);
  expect(f.code, f.err).toBe(0);
  return id;
}

beforeAll(async () => {
  t = await startTestServer();
  const { url } = await t.server.listen();
  worker = testWorker(
    { home: t.home, ...t.deps, cleanup: () => Promise.resolve() },
    new ProcessRuntime({ killGraceMs: 1000 }),
  );
  await worker.start();
  dir = await mkdtemp(join(tmpdir(), 'fetchml-cli-provenance-'));
  env = { FETCHML_CLIENT_CONFIG: join(dir, 'client.json'), FETCHML_HOME: t.home, HOME: dir };
  const first = await project('setup');
  const init = await ml(['init', '--server', url], first);
  expect(init.code, init.err).toBe(0);
}, 60_000);
afterAll(async () => {
  await worker.stop({ graceful: false, timeoutMs: 5000 });
  await t.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('ml explain', () => {
  it('shows the plan ml queue then records, digest for digest, without uploading', async () => {
    const p = await project('explained');
    const human = await ml(['explain', '--', '--lr', '0.5'], p);
    expect(human.code, human.err).toBe(0);
    expect(human.out).toMatch(/commit:\s+[0-9a-f]{64} \(not on the server yet/);
    expect(human.out).toMatch(/deps:\s+requirements\.txt sha256 [0-9a-f]{64}/);
    expect(human.out).toMatch(/experiment:\s+fetchml\.yaml sha256 [0-9a-f]{64}/);
    expect(human.out).toMatch(/command:\s+python3 train\.py --lr 0\.5/);
    expect(human.out).toMatch(/resources:\s+1 cpus, 256 MiB, 0 gpus/);
    expect(human.out).toMatch(/image:\s+none: runs on the worker's own software/);
    expect(human.out).toMatch(/warmed image:\s+none/);
    expect(human.out).toMatch(/plan_sha256:\s+[0-9a-f]{64}/);
    expect(human.out).toContain('ok    deps manifest present — requirements.txt');
    expect(human.out).toContain('ok    resources within worker limits');
    expect(human.out).toContain('warn  image pinned by digest');
    expect(human.out).toContain('would be queued with trust level pinned (strict policy)');

    const plan = await mlJson<ExplainResult>(['explain', '--', '--lr', '0.5'], p);
    expect(plan.commit_stored).toBe(false);
    expect(plan.blocked_by).toEqual([]);
    expect(plan.project).toBe(p);
    const queued = await mlJson<Task>(['queue', '--', '--lr', '0.5'], p);
    expect(queued.plan_sha256).toBe(plan.plan_sha256);
    expect(queued.commit_id).toBe(plan.commit_id);
    expect(queued.trust_level).toBe(plan.trust_level);
    const again = await mlJson<ExplainResult>(['explain', '--', '--lr', '0.5'], p);
    expect(again.commit_stored).toBe(true);
    await ml(['logs', '-f', queued.id], p);
  }, 60_000);

  it('exits 1 naming each blocking check; relaxed must be asked for and records trust unverified', async () => {
    const p = await project('no-deps', { deps: false });
    const before = await taskCount();
    const r = await ml(['explain'], p);
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL  deps manifest present — no dependency manifest: add one');
    expect(r.out).toContain('blocked: 1 check fail under the strict policy');
    const q = await ml(['queue'], p);
    expect(q.code).toBe(1);
    expect(q.err).toContain('no dependency manifest');
    expect(q.err).toContain('--repro-policy relaxed');
    expect(await taskCount()).toBe(before);

    const relaxed = await ml(['explain', '--repro-policy', 'relaxed'], p);
    expect(relaxed.code).toBe(0);
    expect(relaxed.out).toMatch(/policy:\s+relaxed → trust unverified/);
    const task = await mlJson<Task>(['queue', '--repro-policy', 'relaxed'], p);
    expect(task).toMatchObject({ repro_policy: 'relaxed', trust_level: 'unverified' });
    await ml(['logs', '-f', task.id], p);

    // The spec field does the same.
    await writeFile(
      join(p, 'fetchml.yaml'),
      'name: no-deps\ncommand: python3 train.py\nrepro_policy: relaxed\n',
    );
    expect((await mlJson<ExplainResult>(['explain'], p)).plan.repro_policy).toBe('relaxed');
  }, 60_000);

  it('blocks resources beyond every registered worker, saying what is asked and offered', async () => {
    const p = await project('big');
    const before = await taskCount();
    const r = await ml(['explain', '--cpus', '64'], p);
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL  resources within worker limits — asks 64 cpus');
    expect(r.out).toContain('the largest offer 2 cpus');
    const q = await ml(['queue', '--cpus', '64'], p);
    expect(q.code).toBe(1);
    expect(q.err).toContain('resources within worker limits: asks 64 cpus');
    expect(await taskCount()).toBe(before);
  });

  it('refuses a bad policy and a missing compare argument as usage errors (2)', async () => {
    const p = await project('usage');
    for (const args of [
      ['explain', '--repro-policy', 'lax'],
      ['queue', '--repro-policy', 'lax'],
      ['validate', '--repro-policy', 'lax'],
    ]) {
      const r = await ml(args, p);
      expect(r.code).toBe(2);
      expect(r.err).toContain("option '--repro-policy <policy>' argument 'lax' is invalid");
      expect(r.err).toContain('expected one of strict, relaxed');
    }
    const c = await ml(['compare', 'task_x'], p);
    expect(c.code).toBe(2);
    expect(c.err).toContain("missing required argument 'task-b'");
  });

  it('refuses a dir that is not a project, naming it', async () => {
    const r = await ml(['explain', 'nope'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('nope: not a directory');
    await mkdir(join(dir, 'empty'));
    const e = await ml(['explain', 'empty'], dir);
    expect(e.code).toBe(1);
    expect(e.err).toContain(`no fetchml.yaml in ${join(dir, 'empty')}`);
  });
});

describe('ml validate', () => {
  it('passes a ready project, a synced commit, and checks the spec locally first', async () => {
    const p = await project('valid');
    const ok = await ml(['validate'], p);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain('ok    fetchml.yaml parses');
    expect(ok.out).toContain('ok    command present — python3 train.py');
    expect(ok.out).toContain('ok    datasets pinned by checksum');
    const synced = await mlJson<{ commit_id: string }>(['sync'], p);
    const byCommit = await mlJson<ValidateResult>(['validate', synced.commit_id], p);
    expect(byCommit).toMatchObject({ ok: true, target: synced.commit_id, kind: 'experiment' });

    await writeFile(join(p, 'fetchml.yaml'), 'name: valid\n');
    const noCommand = await ml(['validate'], p);
    expect(noCommand.code).toBe(1);
    expect(noCommand.out).toContain('FAIL  command present — set `command:` in fetchml.yaml');
    await writeFile(
      join(p, 'fetchml.yaml'),
      'name: valid\ncommand: python3 train.py\ndatasets: [{name: mnist}]\n',
    );
    const unpinned = await mlJson<ValidateResult>(['validate'], p, 1);
    const failed = unpinned.checks
      .filter((c) => !c.ok && c.blocking)
      .map((c) => `${c.name}: ${c.message}`);
    expect(failed).toContainEqual(
      expect.stringContaining('datasets pinned by checksum: datasets without a checksum: mnist'),
    );
  });

  it('refuses a target that is neither a directory nor a commit, and target with --task', async () => {
    const p = await project('targets');
    const bad = await ml(['validate', 'xyz'], p);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('xyz: not a directory or a commit id (64 hex digits');
    const both = await ml(['validate', '.', '--task', 'task_01'], p);
    expect(both.code).toBe(1);
    expect(both.err).toContain('give a project/commit or --task, not both');
    const unknown = await ml(['validate', 'f'.repeat(64)], p);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain(`no such commit: ${'f'.repeat(64)}`);
  });
});

describe('runs: validate --task, info, compare', () => {
  let a: string;
  let b: string;
  let p: string;

  beforeAll(async () => {
    p = await project('cmp');
    a = await run(p, ['--lr', '0.1']);
    await writeFile(join(p, 'train.py'), `${TRAIN}print("v2")\n`);
    await writeFile(join(p, 'notes.txt'), 'new file\n');
    b = await run(p, ['--lr', '0.2']);
  }, 90_000);

  it('validate --task passes a complete run record and names what a broken one lacks', async () => {
    const ok = await ml(['validate', '--task', a], p);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toContain('ok    lifecycle complete');
    expect(ok.out).toContain('valid: the run record is complete');

    const path = taskFiles(t.home).manifestPath(b);
    const original = await readFile(path, 'utf8');
    try {
      const m = JSON.parse(original) as RunManifest;
      m.lifecycle.ended_at = null;
      m.plan.args = ['--lr', '9'];
      await writeFile(path, JSON.stringify(m));
      const broken = await mlJson<ValidateResult>(['validate', '--task', b], p, 1);
      const failed = broken.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.message}`);
      expect(failed).toEqual([
        'lifecycle complete: completed but lifecycle.ended_at is missing',
        expect.stringMatching(
          /^plan matches plan_sha256: the recorded plan hashes to [0-9a-f]{64}, not plan_sha256/,
        ),
      ]);
      const info = await ml(['info', b], p);
      expect(info.out).toMatch(/record:\s+2 problems: lifecycle complete/);
    } finally {
      await writeFile(path, original);
    }
  });

  it('info shows the plan, trust, experiment sha, final metrics and that the record is complete', async () => {
    const info = await ml(['info', a], p);
    expect(info.code, info.err).toBe(0);
    expect(info.out).toMatch(/plan:\s+[0-9a-f]{64} \(strict, trust pinned\)/);
    expect(info.out).toMatch(/experiment:\s+fetchml\.yaml sha256 [0-9a-f]{64}/);
    expect(info.out).toMatch(/deps:\s+requirements\.txt [0-9a-f]{64}/);
    expect(info.out).toMatch(/record:\s+complete/);
    expect(info.out).toContain('metrics (final values):');
    expect(info.out).toMatch(/ {2}loss:\s+0\.3333/);
    const m = await mlJson<RunManifest>(['info', a], p);
    expect(m.metrics).toEqual({ loss: 0.3333 });
  });

  it('compare puts code, args, deps, environment and metrics side by side', async () => {
    const r = await ml(['compare', a, b], p);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('plan: differs');
    expect(r.out).toContain('code: 2 files differ');
    expect(r.out).toContain('  A notes.txt');
    expect(r.out).toContain('  M train.py');
    expect(r.out).not.toContain('@@');
    expect(r.out).toMatch(/ {2}args\s+--lr 0\.1\s+--lr 0\.2\s+\*/);
    expect(r.out).toContain('same: dependencies (2), image (2), resources (6), worker (4)');
    expect(r.out).toContain('none on either side: datasets, environment');
    expect(r.out).toMatch(/ {2}loss\s+0\.3333\s+0\.1667\s+-0\.1666/);

    const diffed = await ml(['compare', a, b, '--diff'], p);
    expect(diffed.out).toContain('--- a/train.py\n+++ b/train.py\n');
    expect(diffed.out).toContain('+print("v2")\n');
    expect(diffed.out).toContain('--- /dev/null\n+++ b/notes.txt\n@@ -0,0 +1 @@\n+new file\n');

    const json = await mlJson<CompareResponse>(['compare', a, b], p);
    expect(json.same_plan).toBe(false);
    expect(json.code.files.map((f) => [f.path, f.change])).toEqual([
      ['notes.txt', 'added'],
      ['train.py', 'modified'],
    ]);
    expect(json.sections.run.find((x) => x.key === 'args')).toEqual({
      key: 'args',
      a: ['--lr', '0.1'],
      b: ['--lr', '0.2'],
      same: false,
    });
    expect(json.metrics).toHaveLength(1);
    expect(json.metrics[0]).toMatchObject({ key: 'loss', a: 0.3333, b: 0.1667, same: false });
    expect(json.metrics[0]!.delta).toBeCloseTo(-0.1666, 6);
    const self = await mlJson<CompareResponse>(['compare', a, a], p);
    expect(self.same_plan).toBe(true);
    expect(self.code).toMatchObject({ same: true, files: [] });
  });

  it('a task that never started: validate --task says so, compare refuses naming it', async () => {
    const q = await project('never');
    // Relaxed lets a task no worker can fit through; it stays queued.
    const queued = await mlJson<Task>(['queue', '--repro-policy', 'relaxed', '--cpus', '64'], q);
    expect(queued.trust_level).toBe('unverified');
    const v = await mlJson<ValidateResult>(['validate', '--task', queued.id], q);
    expect(v).toMatchObject({ ok: true, status: 'queued' });
    expect(v.checks[0]).toMatchObject({ note: 'none yet: the task is queued and never started' });
    const r = await ml(['compare', a, queued.id], p);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`task ${queued.id} has no run manifest yet`);
    expect((await ml(['cancel', queued.id], q)).code).toBe(0);
  });
});
