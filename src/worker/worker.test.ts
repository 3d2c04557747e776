import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { sha256Hex } from '../core/hash.ts';
import { taskFiles } from '../core/layout.ts';
import { lifecycleProblems, RunManifest } from '../core/schemas/manifest.ts';
import type { TaskEvent } from '../events/types.ts';
import { PROCESS_RUNTIME_WARNING, ProcessRuntime } from '../runtime/index.ts';
import type { TestBackends } from './test-helpers.ts';
import {
  openTestBackends,
  submitProject,
  testWorker,
  waitFor,
  waitForStatus,
} from './test-helpers.ts';
import type { FetchmlWorker } from './types.ts';

const runtime = new ProcessRuntime({ killGraceMs: 1000 });

const HAPPY = `echo "line one"
echo "to stderr" >&2
printf 'h\\303\\251llo w\\303\\266rld\\n'
mkdir -p "$FETCHML_OUTPUT/sub"
echo model > "$FETCHML_OUTPUT/model.bin"
echo '{"acc": 0.5}' >> "$FETCHML_OUTPUT/metrics.jsonl"
echo '{"acc": 0.9, "step": 2}' >> "$FETCHML_OUTPUT/metrics.jsonl"
echo nested > "$FETCHML_OUTPUT/sub/a.txt"
ln -s /etc/passwd "$FETCHML_OUTPUT/link"
echo done
`;

let b: TestBackends;
let worker: FetchmlWorker | null = null;
let events: TaskEvent[];

beforeEach(async () => {
  b = await openTestBackends();
  events = [];
  b.events.subscribe('*', (e) => events.push(e));
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

describe('worker (process runtime)', () => {
  it('runs a job to completion: complete manifest, artifacts in blobs, log and events agree', async () => {
    const task = await submitProject(b, {
      files: { 'run.sh': HAPPY },
      spec: {
        name: 'happy',
        command: 'sh run.sh',
        env: { API_TOKEN: 'hunter2', CACHE: `${b.home}/cache/x`, PLAIN: 'v' },
      },
    });
    worker = testWorker(b, runtime);
    await worker.start();
    const done = await waitForStatus(b, task.id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.exit_code).toBe(0);
    expect(done.attempt).toBe(1);

    const m = await readManifest(task.id);
    expect(lifecycleProblems(m)).toEqual([]);
    expect(m.status).toBe('completed');
    expect(m.error).toBeNull();
    expect(m.lifecycle.exit_code).toBe(0);
    expect(m.lifecycle.queued_at).toBe(task.queued_at);
    expect(m.worker).toMatchObject({ id: worker.id, runtime: 'process', version: '0.0.0-test' });
    expect(m.warnings).toContain(PROCESS_RUNTIME_WARNING);
    expect(m.warnings.some((w) => w.includes('symlink skipped'))).toBe(true);
    expect(m.image).toEqual({ reference: null, digest: null });
    expect(m.resources.assigned).toEqual({ cpus: 1, memory_mb: 1024, gpu_indices: [] });
    expect(m.environment).toEqual({
      API_TOKEN: '[redacted]',
      CACHE: '$FETCHML_HOME/cache/x',
      PLAIN: 'v',
    });
    expect(m.metrics).toEqual({ acc: 0.9 });
    expect(m.artifacts.map((a) => a.path)).toEqual(['metrics.jsonl', 'model.bin', 'sub/a.txt']);
    const model = m.artifacts.find((a) => a.path === 'model.bin')!;
    expect(model).toEqual({ path: 'model.bin', size: 6, sha256: sha256Hex('model\n') });
    for (const a of m.artifacts) expect(await b.blobs.has(a.sha256)).toBe(true);

    const log = await readFile(taskFiles(b.home).logPath(task.id));
    const text = log.toString('utf8');
    expect(text.startsWith(`--- attempt 1 on worker ${worker.id} ---\n`)).toBe(true);
    expect(text).toContain('line one\n');
    expect(text).toContain('to stderr\n');
    expect(text).toContain('héllo wörld\n');
    expect(text).toMatch(/\[fetchml\] staged 1 files .* in \d+ ms\n/);
    expect(text).toMatch(/\[fetchml\] exit code 0 after \d+\.\d s\n/);
    expect(text).toContain(`[fetchml] warning: ${PROCESS_RUNTIME_WARNING}\n`);

    // Every task.log event's text is exactly the file's bytes at its offset, and together they
    // cover the file without gaps or overlaps.
    const logs = events.filter(
      (e): e is Extract<TaskEvent, { type: 'task.log' }> =>
        e.type === 'task.log' && e.task_id === task.id,
    );
    let at = 0;
    for (const e of [...logs].sort((x, y) => x.offset - y.offset)) {
      const bytes = Buffer.from(e.text, 'utf8');
      expect(e.offset).toBe(at);
      expect(log.subarray(e.offset, e.offset + bytes.length).equals(bytes)).toBe(true);
      at += bytes.length;
    }
    expect(at).toBe(log.length);
    expect(logs.some((e) => e.stream === 'stderr' && e.text.includes('to stderr'))).toBe(true);

    const statuses = events.filter((e) => e.type === 'task.status').map((e) => e.status);
    expect(statuses).toEqual(['running', 'completed']);
    // The staging dir is removed right after the final state is recorded (not before it).
    const staged = join(b.home, 'cache', 'work', `${task.id}-1`);
    await waitFor(
      () =>
        stat(staged).then(
          () => true,
          () => false,
        ),
      (exists) => !exists,
      5000,
    );
    const workers = await b.store.listWorkers();
    expect(workers.find((w) => w.id === worker!.id)?.runtime).toBe('process');
  });

  it('a non-zero exit fails the task with its exit code and a complete manifest', async () => {
    const task = await submitProject(b, {
      files: { 'run.sh': 'echo "about to fail"\necho partial > "$FETCHML_OUTPUT/p.txt"\nexit 3\n' },
      spec: { name: 'fails', command: 'sh run.sh' },
    });
    worker = testWorker(b, runtime);
    await worker.start();
    const done = await waitForStatus(b, task.id, ['completed', 'failed']);
    expect(done).toMatchObject({
      status: 'failed',
      exit_code: 3,
      error: { code: 'ML_ERR_TASK_EXIT', message: 'exited with code 3' },
    });
    const m = await readManifest(task.id);
    expect(m.status).toBe('failed');
    expect(m.lifecycle.exit_code).toBe(3);
    expect(lifecycleProblems(m)).toEqual([]);
    expect(m.artifacts.map((a) => a.path)).toEqual(['p.txt']);
    const entry = await b.queue.get(task.id);
    expect(entry?.state).toBe('failed');
  });

  it('enforces the timeout', async () => {
    const task = await submitProject(b, {
      files: { 'run.sh': 'echo start\nsleep 20\n' },
      spec: { name: 'slow', command: 'sh run.sh' },
      timeoutS: 0.5,
    });
    worker = testWorker(b, runtime);
    await worker.start();
    const done = await waitForStatus(b, task.id, ['completed', 'failed'], 10_000);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('ML_ERR_TASK_TIMEOUT');
    const m = await readManifest(task.id);
    expect(lifecycleProblems(m)).toEqual([]);
    expect(m.lifecycle.exit_code).toBeGreaterThan(128);
    expect(m.error?.code).toBe('ML_ERR_TASK_TIMEOUT');
    const log = await readFile(taskFiles(b.home).logPath(task.id), 'utf8');
    expect(log).toMatch(/\[fetchml\] timed out after/);
  });

  it('cancels a running task within about a second', async () => {
    const task = await submitProject(b, {
      files: { 'run.sh': 'echo started\nsleep 30\n' },
      spec: { name: 'cancel-me', command: 'sh run.sh' },
    });
    worker = testWorker(b, runtime);
    await worker.start();
    await waitForStatus(b, task.id, ['running']);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    expect(await b.queue.cancel(task.id)).toBe('signalled');
    await b.store.setCancelRequested(task.id);
    const done = await waitForStatus(b, task.id, ['cancelled', 'failed', 'completed'], 5000);
    const took = Date.now() - t0;
    expect(done.status).toBe('cancelled');
    expect(done.error?.code).toBe('ML_ERR_TASK_CANCELLED');
    expect(took).toBeLessThan(1500);
    expect((await b.queue.get(task.id))?.state).toBe('cancelled');
    const m = await readManifest(task.id);
    expect(m.status).toBe('cancelled');
    expect(lifecycleProblems(m)).toEqual([]);
  });

  it('fails a task whose plan needs datasets with ML_ERR_DATASET_UNAVAILABLE', async () => {
    const task = await submitProject(b, {
      files: { 'run.sh': 'echo never\n' },
      spec: {
        name: 'data',
        command: 'sh run.sh',
        datasets: [{ name: 'mnist', checksum: `sha256:${'a'.repeat(64)}` }],
      },
    });
    worker = testWorker(b, runtime);
    await worker.start();
    const done = await waitForStatus(b, task.id, ['failed', 'completed']);
    expect(done.error?.code).toBe('ML_ERR_DATASET_UNAVAILABLE');
    expect(done.exit_code).toBeNull();
    const log = await readFile(taskFiles(b.home).logPath(task.id), 'utf8');
    expect(log).toContain('ML_ERR_DATASET_UNAVAILABLE');
    expect(log).not.toContain('never');
    expect((await readManifest(task.id)).status).toBe('failed');
  });
});
