/**
 * The worker's provenance duties, end to end on real backends with the process runtime: it
 * re-resolves every task's plan before running it and refuses one whose stored record was changed
 * after it was queued; and it reads the job's `$FETCHML_METRICS` into the run manifest (bad lines
 * reported, never fatal), with the seeded example's own helper.
 */
import Database from 'better-sqlite3';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { canonicalSha256 } from '../core/hash.ts';
import { taskFiles } from '../core/layout.ts';
import { lifecycleProblems, RunManifest } from '../core/schemas/manifest.ts';
import type { Task } from '../core/schemas/task.ts';
import { ProcessRuntime } from '../runtime/index.ts';
import type { TestBackends } from './test-helpers.ts';
import { openTestBackends, submitProject, testWorker, waitForStatus } from './test-helpers.ts';
import type { FetchmlWorker } from './types.ts';

const runtime = new ProcessRuntime({ killGraceMs: 1000 });
const EXAMPLE = resolve(import.meta.dirname, '../../examples/logreg');

let b: TestBackends;
let worker: FetchmlWorker | null = null;
beforeEach(async () => {
  b = await openTestBackends();
});
afterEach(async () => {
  await worker?.stop({ graceful: false });
  worker = null;
  await b.cleanup();
});

async function readManifest(taskId: string): Promise<RunManifest> {
  const raw = JSON.parse(await readFile(taskFiles(b.home).manifestPath(taskId), 'utf8')) as unknown;
  return RunManifest.parse(raw);
}

/** Rewrites the stored task document, as someone with write access to the database could. */
function tamper(task: Task, change: (t: Task) => Task): void {
  const db = new Database(join(b.home, 'fetchml.db'));
  try {
    db.prepare('UPDATE tasks SET task_json = ? WHERE id = ?').run(
      JSON.stringify(change(task)),
      task.id,
    );
  } finally {
    db.close();
  }
}

const JOB = { 'run.sh': 'echo RAN > "$FETCHML_OUTPUT/ran.txt"\necho the job ran\n' };

describe('plan re-check before a run', () => {
  it('runs an untouched task and logs that its plan matched', async () => {
    const task = await submitProject(b, { files: JOB, spec: { name: 'ok', command: 'sh run.sh' } });
    worker = testWorker(b, runtime);
    await worker.start();
    expect((await waitForStatus(b, task.id, ['completed', 'failed'])).status).toBe('completed');
    const log = await readFile(taskFiles(b.home).logPath(task.id), 'utf8');
    expect(log).toContain(`plan ${task.plan_sha256} re-resolved from commit and spec: matches`);
  });

  it('refuses a task whose stored plan no longer hashes to its plan_sha256', async () => {
    const task = await submitProject(b, { files: JOB, spec: { name: 'ok', command: 'sh run.sh' } });
    tamper(task, (t) => ({ ...t, plan: { ...t.plan, command: ['sh', '-c', 'echo evil'] } }));
    worker = testWorker(b, runtime);
    await worker.start();
    const done = await waitForStatus(b, task.id, ['completed', 'failed']);
    expect(done.status).toBe('failed');
    expect(done.exit_code).toBeNull();
    expect(done.error?.code).toBe('ML_ERR_PLAN_MISMATCH');
    expect(done.error?.message).toContain(`plan of ${task.id} does not match its plan_sha256`);
    expect(done.error?.message).toContain('queue the experiment again');
    const m = await readManifest(task.id);
    expect(m.status).toBe('failed');
    expect(m.error?.code).toBe('ML_ERR_PLAN_MISMATCH');
    expect(lifecycleProblems(m)).toEqual(['failed but lifecycle.exit_code is missing']);
    const log = await readFile(taskFiles(b.home).logPath(task.id), 'utf8');
    expect(log).toContain('ML_ERR_PLAN_MISMATCH');
    expect(log).not.toContain('the job ran');
    expect(log).not.toContain('evil');
    expect(m.artifacts).toEqual([]);
  });

  it('refuses a plan changed together with its digest, naming the fields that differ', async () => {
    const task = await submitProject(b, {
      files: JOB,
      spec: { name: 'ok', command: 'sh run.sh', env: { MODE: 'train' } },
    });
    tamper(task, (t) => {
      const plan = { ...t.plan, env: { MODE: 'cheat' }, network: 'bridge' as const };
      return { ...t, plan, plan_sha256: canonicalSha256(plan) };
    });
    worker = testWorker(b, runtime);
    await worker.start();
    const done = await waitForStatus(b, task.id, ['completed', 'failed']);
    expect(done.error?.code).toBe('ML_ERR_PLAN_MISMATCH');
    expect(done.error?.message).toContain('no longer matches its commit and spec');
    expect(done.error?.message).toContain('differs in env, network');
    const out = await readdir(join(taskFiles(b.home).dir(task.id), 'output')).catch(() => []);
    expect(out).not.toContain('ran.txt');
  });
});

describe('metrics', () => {
  it('reads $FETCHML_METRICS into the manifest, reports bad lines, keeps the file', async () => {
    const task = await submitProject(b, {
      files: {
        'run.sh': [
          'test "$FETCHML_METRICS" = "$FETCHML_OUTPUT/metrics.jsonl" || exit 9',
          `echo '{"step": 1, "loss": 0.9, "acc": 0.5}' >> "$FETCHML_METRICS"`,
          `echo 'oops' >> "$FETCHML_METRICS"`,
          `echo '{"step": 2, "loss": 0.4}' >> "$FETCHML_METRICS"`,
        ].join('\n'),
      },
      spec: { name: 'metrics', command: 'sh run.sh' },
    });
    worker = testWorker(b, runtime);
    await worker.start();
    const done = await waitForStatus(b, task.id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    const m = await readManifest(task.id);
    expect(m.metrics).toEqual({ acc: 0.5, loss: 0.4 });
    expect(m.warnings).toContain('metrics.jsonl line 2: not valid JSON; skipped');
    expect(m.artifacts.map((a) => a.path)).toEqual(['metrics.jsonl']);
    const log = await readFile(taskFiles(b.home).logPath(task.id), 'utf8');
    expect(log).toContain(
      '[fetchml] metrics: 3 lines, 2 metrics (acc, loss), last step 2, 1 bad lines skipped',
    );
  });

  it('the seeded example logs its metrics with fetchml_metrics.py', async () => {
    const files: Record<string, string> = {};
    for (const name of ['train.py', 'fetchml_metrics.py', 'requirements.txt']) {
      files[name] = await readFile(join(EXAMPLE, name), 'utf8');
    }
    const task = await submitProject(b, {
      files,
      spec: { name: 'logreg', command: 'python3 train.py' },
      args: ['--epochs', '3', '--samples', '200'],
    });
    expect(task.plan.deps?.name).toBe('requirements.txt');
    worker = testWorker(b, runtime);
    await worker.start();
    const done = await waitForStatus(b, task.id, ['completed', 'failed'], 60_000);
    expect(done.status, done.error?.message).toBe('completed');
    const m = await readManifest(task.id);
    expect(Object.keys(m.metrics)).toEqual(['accuracy', 'loss']);
    expect(m.warnings.filter((w) => w.includes('metrics'))).toEqual([]);
    const lines = (
      await readFile(join(taskFiles(b.home).dir(task.id), 'output', 'metrics.jsonl'), 'utf8')
    )
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; loss: number });
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3]);
    expect(m.metrics['loss']).toBe(lines[2]!.loss);
  }, 90_000);
});
