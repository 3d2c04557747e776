/**
 * The worker on the podman runtime, end to end: the example experiment (examples/logreg) in the
 * test image, the image digest in the manifest, a task whose image is missing never claimed (and
 * run once the image is provided), and hostile jobs that are contained while the worker carries
 * on. Runs when podman is required
 * (CI=true / FETCHML_TEST_PODMAN=1: a missing podman fails loudly) or present with the test image.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { taskFiles } from '../core/layout.ts';
import { lifecycleProblems, RunManifest } from '../core/schemas/manifest.ts';
import type { ExperimentSpecInput } from '../core/schemas/spec.ts';
import type { StatusResponse } from '../core/schemas/status.ts';
import type { Task } from '../core/schemas/task.ts';
import { podmanSkipReason, testEngineEnv, testImage, testPodman } from '../runtime/test-support.ts';
import { sampleProject, sampleSpec, startTestServer } from '../server/test-helpers.ts';
import type { TestBackends } from './test-helpers.ts';
import {
  openTestBackends,
  submitProject,
  testWorker,
  waitFor,
  waitForStatus,
} from './test-helpers.ts';
import type { FetchmlWorker } from './types.ts';

const skip = podmanSkipReason();
const example = fileURLToPath(new URL('../../examples/logreg/', import.meta.url));

let b: TestBackends;
let worker: FetchmlWorker | null = null;
const podman = testPodman({ killGraceMs: 1000 });
const podmanCli = (args: string[]) =>
  promisify(execFile)('podman', args, { env: testEngineEnv(), timeout: 60_000 });

describe.skipIf(skip !== undefined)('worker (podman runtime)', () => {
  beforeAll(async () => {
    const avail = await podman.available();
    if (!avail.ok) throw new Error(`podman runtime unavailable: ${avail.reason}`);
  });
  beforeEach(async () => {
    b = await openTestBackends();
  });
  afterEach(async () => {
    await worker?.stop({ graceful: false });
    worker = null;
    await b.cleanup();
  });

  const manifestOf = async (taskId: string) =>
    RunManifest.parse(JSON.parse(await readFile(taskFiles(b.home).manifestPath(taskId), 'utf8')));

  it('runs the example experiment in a container, with the image digest in the manifest', async () => {
    const spec = parse(await readFile(`${example}fetchml.yaml`, 'utf8')) as ExperimentSpecInput;
    const task = await submitProject(b, {
      files: {
        'train.py': await readFile(`${example}train.py`, 'utf8'),
        'fetchml_metrics.py': await readFile(`${example}fetchml_metrics.py`, 'utf8'),
        'requirements.txt': await readFile(`${example}requirements.txt`, 'utf8'),
      },
      spec: { ...spec, image: testImage() },
      args: ['--epochs', '3'],
    });
    worker = testWorker(b, podman);
    await worker.start();
    const done = await waitForStatus(b, task.id, ['completed', 'failed'], 60_000);
    const log = await readFile(taskFiles(b.home).logPath(task.id), 'utf8');
    expect(done.status, log).toBe('completed');
    expect(log).toContain('epoch   3/3');
    expect(log).toContain('model saved to /work/output/model.json');
    expect(log).not.toContain(b.home);
    const m = await manifestOf(task.id);
    expect(lifecycleProblems(m)).toEqual([]);
    expect(m.worker.runtime).toBe('podman');
    expect(m.image.reference).toBe(testImage());
    expect(m.image.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(m.artifacts.map((a) => a.path)).toContain('model.json');
    expect(JSON.stringify(m.environment)).not.toContain(b.home);
  });

  it('never claims a task whose image is missing; ml status says which image and how to provide it', async () => {
    // A real server on real backends: submitted through the API, explained by GET /v1/status
    // (what `ml status` prints), run by a podman worker on the same backends.
    const t = await startTestServer();
    const missing = `localhost/fetchml-no-such-${Date.now()}:1`;
    try {
      const project = sampleProject('print("ran-after-load")\n');
      await t.deps.blobs.put(project.data, project.sha);
      await t.deps.store.putCommit(project.commitId, project.manifest);
      const res = await t.server.app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: t.auth,
        payload: { commit_id: project.commitId, spec: { ...sampleSpec, image: missing } },
      });
      expect(res.statusCode, res.body).toBe(201);
      const task = res.json<Task>();
      const backends = { ...t.deps, home: t.home, cleanup: () => Promise.resolve() };
      worker = testWorker(backends, podman, { imageRecheckMs: 200 });
      await worker.start();
      const status = async () => {
        const r = await t.server.app.inject({ method: 'GET', url: '/v1/status', headers: t.auth });
        return r.json<StatusResponse>();
      };
      // The worker checked the image, found it missing and said so: status explains the wait.
      const s = await waitFor(
        status,
        (x) => x.queue.tasks[0]?.reason.code === 'image_unavailable',
        30_000,
      );
      const reason = s.queue.tasks[0]!.reason;
      expect(reason.message).toContain(`image ${missing} is not available on worker ${worker.id}`);
      expect(reason.message).toContain(`'podman pull ${missing}'`);
      expect(reason.message).toContain("'podman load -i image.tar'");
      expect(reason.message).toContain(`'podman build -t ${missing} .'`);
      expect(reason.workers).toEqual([worker.id]);
      // Several polls later, the task was never claimed: attempt 0, no lease, still queued.
      await new Promise((r) => setTimeout(r, 1000));
      expect(await t.deps.queue.get(task.id)).toMatchObject({
        state: 'queued',
        attempt: 0,
        lease_id: null,
        worker_id: null,
      });
      expect(await t.deps.store.getTask(task.id)).toMatchObject({
        status: 'queued',
        attempt: 0,
        worker_id: null,
      });
      // Providing the image on the worker host is enough: the task is claimed and runs.
      await podmanCli(['tag', testImage('python'), missing]);
      const done = await waitFor(
        async () => (await t.deps.store.getTask(task.id)) as Task,
        (x) => x.status === 'completed' || x.status === 'failed',
        60_000,
      );
      expect(done).toMatchObject({ status: 'completed', attempt: 1 });
      expect(await readFile(taskFiles(t.home).logPath(task.id), 'utf8')).toContain(
        'ran-after-load',
      );
    } finally {
      await worker?.stop({ graceful: false });
      worker = null;
      await podmanCli(['rmi', missing]).catch(() => undefined);
      await t.cleanup();
    }
  });

  it('contains a fork bomb and a memory hog; the worker carries on with the next job', async () => {
    const bomb = await submitProject(b, {
      files: { 'bomb.sh': 'echo bombing\nf() { f | f & }\nf\nsleep 30\n' },
      spec: { name: 'bomb', command: 'sh bomb.sh', image: testImage(), timeout: '3s' },
      resources: { cpus: 1, memory_mb: 256 },
    });
    const hog = await submitProject(b, {
      files: { 'hog.py': "b = bytearray(1024 * 1024 * 1024)\nprint('allocated')\n" },
      spec: { name: 'hog', command: 'python3 hog.py', image: testImage() },
      resources: { cpus: 1, memory_mb: 128 },
    });
    const after = await submitProject(b, {
      files: { 'ok.sh': 'echo still-fine\n' },
      spec: { name: 'after', command: 'sh ok.sh', image: testImage() },
    });
    worker = testWorker(b, podman);
    await worker.start();
    const bombDone = await waitForStatus(b, bomb.id, ['completed', 'failed'], 60_000);
    expect(bombDone.status).toBe('failed');
    expect(bombDone.error?.code).toBe('ML_ERR_TASK_TIMEOUT');
    const hogDone = await waitForStatus(b, hog.id, ['completed', 'failed'], 60_000);
    expect(hogDone.error?.code).toBe('ML_ERR_TASK_OOM');
    const afterDone = await waitForStatus(b, after.id, ['completed', 'failed'], 60_000);
    expect(afterDone.status).toBe('completed');
    expect(await readFile(taskFiles(b.home).logPath(after.id), 'utf8')).toContain('still-fine');
  });

  it('cancels a container job that ignores SIGTERM (killed after the grace period)', async () => {
    const task = await submitProject(b, {
      files: { 'run.sh': "trap '' TERM\necho started\nwhile :; do sleep 1; done\n" },
      spec: { name: 'stubborn', command: 'sh run.sh', image: testImage() },
    });
    worker = testWorker(b, podman);
    await worker.start();
    await waitForStatus(b, task.id, ['running'], 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = performance.now();
    await b.queue.cancel(task.id);
    await b.store.setCancelRequested(task.id);
    const done = await waitForStatus(b, task.id, ['cancelled', 'failed', 'completed'], 15_000);
    expect(done.status).toBe('cancelled');
    expect(performance.now() - t0).toBeLessThan(8000);
  });
});
