/**
 * The image gate (./images.ts) with the real SQLite queue and store: a worker whose runtime lacks
 * a task's image never claims it (attempt 0, no lease), says so in its record, claims it once the
 * image appears, and keeps claiming other tasks meanwhile. The runtime is the process runtime with
 * an image shelf in memory standing in for the engine's image store (podman itself: podman.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { FetchmlError } from '../core/errors.ts';
import { imageWaitReason } from '../core/image-wait.ts';
import { ProcessRuntime } from '../runtime/process/process-runtime.ts';
import type { ImageInfo } from '../runtime/types.ts';
import { ImageGate } from './images.ts';
import type { TestBackends } from './test-helpers.ts';
import {
  openTestBackends,
  submitProject,
  testWorker,
  waitFor,
  waitForStatus,
} from './test-helpers.ts';
import type { FetchmlWorker } from './types.ts';

/** The process runtime plus an in-memory set of "present" images; counts the engine's checks. */
class ShelfRuntime extends ProcessRuntime {
  readonly shelf = new Set<string>();
  checks = 0;
  broken = false;

  resolveImage(image: string | null): Promise<ImageInfo> {
    this.checks++;
    if (this.broken) return Promise.reject(new Error('engine exploded'));
    if (image !== null && this.shelf.has(image)) {
      return Promise.resolve({ reference: image, id: 'sha256:1', digest: 'sha256:1' });
    }
    return Promise.reject(
      new FetchmlError('ML_ERR_IMAGE_UNAVAILABLE', `image ${image} is not available`),
    );
  }
}

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

describe('ImageGate', () => {
  it('lists present and missing queued images, re-asking a missing one only after recheckMs', async () => {
    const rt = new ShelfRuntime();
    rt.shelf.add('localhost/have:1');
    const gate = ImageGate.for(rt, { recheckMs: 60_000 });
    expect(gate).not.toBeNull();
    for (const [id, image] of [
      ['t1', 'localhost/have:1'],
      ['t2', 'localhost/lack:1'],
      ['t3', null],
    ] as const) {
      await b.queue.enqueue({
        task_id: id,
        priority: 0,
        resources: { cpus: 1, memory_mb: 1, gpus: 0 },
        labels: [],
        max_attempts: 1,
        image,
      });
    }
    expect(await gate!.refresh(b.queue)).toEqual({
      present: ['localhost/have:1'],
      missing: ['localhost/lack:1'],
      changed: true,
    });
    const checks = rt.checks;
    rt.shelf.add('localhost/lack:1');
    // Within recheckMs the missing image is not asked again; the present one is (runtime cache).
    expect(await gate!.refresh(b.queue)).toEqual({
      present: ['localhost/have:1'],
      missing: ['localhost/lack:1'],
      changed: false,
    });
    expect(rt.checks).toBe(checks + 1);
    expect(gate!.missing()).toEqual(['localhost/lack:1']);
  });

  it('a failing engine check is reported; the image is neither claimed nor advertised as missing', async () => {
    const rt = new ShelfRuntime();
    rt.broken = true;
    const errors: string[] = [];
    const gate = ImageGate.for(rt, {
      onError: (e, image) => errors.push(`${image}: ${e.message}`),
    });
    await b.queue.enqueue({
      task_id: 't1',
      priority: 0,
      resources: { cpus: 1, memory_mb: 1, gpus: 0 },
      labels: [],
      max_attempts: 1,
      image: 'localhost/x:1',
    });
    expect(await gate!.refresh(b.queue)).toEqual({ present: [], missing: [], changed: false });
    expect(errors).toEqual(['localhost/x:1: engine exploded']);
  });

  it('is null for a runtime that does not run images', () => {
    expect(ImageGate.for(new ProcessRuntime())).toBeNull();
  });
});

describe('worker with an image gate', () => {
  it('never claims a task whose image is missing, runs others, and claims it once the image appears', async () => {
    const rt = new ShelfRuntime();
    rt.shelf.add('localhost/have:1');
    const lacking = await submitProject(b, {
      files: { 'run.sh': 'echo lacking-ran\n' },
      spec: { name: 'lacking', command: 'sh run.sh', image: 'localhost/lack:1' },
      priority: 10,
    });
    const other = await submitProject(b, {
      files: { 'run.sh': 'echo other-ran\n' },
      spec: { name: 'other', command: 'sh run.sh', image: 'localhost/have:1' },
    });
    worker = testWorker(b, rt, { imageRecheckMs: 50 });
    await worker.start();
    // The lower-priority task with a present image runs; the higher one is skipped, unclaimed.
    expect((await waitForStatus(b, other.id, ['completed', 'failed'])).status).toBe('completed');
    const [record] = await waitFor(
      () => b.store.listWorkers(),
      (ws) => ws[0]?.images_missing?.includes('localhost/lack:1') === true,
    );
    expect(await b.queue.get(lacking.id)).toMatchObject({
      state: 'queued',
      attempt: 0,
      lease_id: null,
    });
    expect(await b.store.getTask(lacking.id)).toMatchObject({ status: 'queued', attempt: 0 });
    const reason = imageWaitReason('localhost/lack:1', [record!]);
    expect(reason).toEqual({
      message: expect.stringContaining(
        `image localhost/lack:1 is not available on worker ${worker.id}: provide it on a worker host with 'podman pull localhost/lack:1'`,
      ) as string,
      workers: [worker.id],
    });
    rt.shelf.add('localhost/lack:1');
    const done = await waitForStatus(b, lacking.id, ['completed', 'failed']);
    expect(done).toMatchObject({ status: 'completed', attempt: 1 });
    await waitFor(
      () => b.store.listWorkers(),
      (ws) => ws[0]?.images_missing?.length === 0,
    );
  });
});
