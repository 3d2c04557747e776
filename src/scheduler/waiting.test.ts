import { describe, expect, it } from 'vitest';

import type { QueuedJob, WorkerCapacity } from './waiting.ts';
import { explainQueue } from './waiting.ts';

const job = (id: string, over: Partial<QueuedJob> = {}): QueuedJob => ({
  task_id: id,
  priority: 0,
  resources: { cpus: 1, memory_mb: 1024, gpus: 0 },
  labels: [],
  ...over,
});

const worker = (id: string, over: Partial<WorkerCapacity> = {}): WorkerCapacity => ({
  id,
  status: 'online',
  live: true,
  total: { cpus: 4, memory_mb: 8192, gpus: 0 },
  held: { cpus: 0, memory_mb: 0, gpus: 0 },
  labels: [],
  freeSlots: null,
  ...over,
});

const codes = (queued: QueuedJob[], workers: WorkerCapacity[]) =>
  explainQueue(queued, workers).map((r) => r.code);

describe('explainQueue', () => {
  it('returns nothing for an empty queue', () => {
    expect(explainQueue([], [worker('w1')])).toEqual([]);
  });

  it('no worker at all, or only offline and silent ones: no_live_worker', () => {
    expect(explainQueue([job('t1')], [])).toEqual([
      {
        code: 'no_live_worker',
        message: 'no worker is online: start one (`fetchml up` or `fetchml worker`)',
      },
    ]);
    const [r] = explainQueue(
      [job('t1')],
      [worker('gone', { status: 'offline', live: false }), worker('quiet', { live: false })],
    );
    expect(r).toEqual({
      code: 'no_live_worker',
      message:
        'no worker is online (quiet stopped answering): start one (`fetchml up` or `fetchml worker`)',
    });
  });

  it('only a draining worker could run it: workers_draining', () => {
    const [r] = explainQueue([job('t1')], [worker('w1', { status: 'draining' })]);
    expect(r).toMatchObject({ code: 'workers_draining', workers: ['w1'] });
    // A draining worker too small for it does not count.
    const big = job('t2', { resources: { cpus: 64, memory_mb: 1, gpus: 0 } });
    expect(codes([big], [worker('w1', { status: 'draining' })])).toEqual(['no_live_worker']);
  });

  it('room on a worker: ready, naming it; room is used up in claim order', () => {
    const w = worker('w1', { total: { cpus: 2, memory_mb: 8192, gpus: 0 } });
    const r = explainQueue([job('t1'), job('t2'), job('t3')], [w]);
    expect(r[0]).toEqual({
      code: 'ready',
      message: "w1 has room: it starts at that worker's next claim",
      workers: ['w1'],
    });
    expect(r.map((x) => x.code)).toEqual(['ready', 'ready', 'earlier_task_ahead']);
    expect(r[2]).toMatchObject({ blocked_by: 't1', workers: ['w1'] });
  });

  it('a higher-priority task ahead takes the room: higher_priority_ahead', () => {
    const w = worker('w1', { total: { cpus: 8, memory_mb: 8192, gpus: 1 } });
    const r = explainQueue(
      [
        job('hi', { priority: 10, resources: { cpus: 1, memory_mb: 512, gpus: 1 } }),
        job('lo', { priority: 0, resources: { cpus: 1, memory_mb: 512, gpus: 1 } }),
      ],
      [w],
    );
    expect(r[0]!.code).toBe('ready');
    expect(r[1]).toEqual({
      code: 'higher_priority_ahead',
      message: 'hi (priority 10) is ahead and takes the room on w1',
      blocked_by: 'hi',
      workers: ['w1'],
    });
  });

  it('a small task behind a big one still fits where the big one does not (no reservation)', () => {
    const w = worker('w1', { total: { cpus: 4, memory_mb: 8192, gpus: 0 } });
    const r = codes(
      [job('big', { resources: { cpus: 16, memory_mb: 1024, gpus: 0 } }), job('small')],
      [w],
    );
    expect(r).toEqual(['too_large', 'ready']);
  });

  it('more than any worker has: too_large with each short resource', () => {
    const [r] = explainQueue(
      [job('t1', { resources: { cpus: 2, memory_mb: 65536, gpus: 4 } })],
      [
        worker('a', { total: { cpus: 8, memory_mb: 16384, gpus: 2 } }),
        worker('b', { total: { cpus: 4, memory_mb: 32768, gpus: 1 } }),
      ],
    );
    expect(r).toEqual({
      code: 'too_large',
      message:
        'it asks for 65536 MiB of memory (the most any worker has: 32768 MiB), 4 gpus (the most any worker has: 2): lower `resources` or add a bigger worker',
      short: [
        { resource: 'memory_mb', need: 65536, max: 32768 },
        { resource: 'gpus', need: 4, max: 2 },
      ],
    });
  });

  it('each resource fits some worker, but no worker fits them all: too_large without shortfall', () => {
    const [r] = explainQueue(
      [job('t1', { resources: { cpus: 8, memory_mb: 1024, gpus: 2 } })],
      [
        worker('a', { total: { cpus: 8, memory_mb: 8192, gpus: 0 } }),
        worker('b', { total: { cpus: 2, memory_mb: 8192, gpus: 2 } }),
      ],
    );
    expect(r).toMatchObject({ code: 'too_large', short: [] });
    expect(r!.message).toContain('no single worker has 8 cpus, 1024 MiB, 2 gpus');
  });

  it('labels no online worker offers: labels_unmatched naming them', () => {
    const [r] = explainQueue(
      [job('t1', { labels: ['a100', 'eu'] })],
      [worker('w1', { labels: ['eu'] }), worker('w2', { labels: ['us'] })],
    );
    expect(r).toEqual({
      code: 'labels_unmatched',
      message: 'no online worker offers label a100',
      missing_labels: ['a100'],
    });
    const [split] = explainQueue(
      [job('t1', { labels: ['a100', 'eu'] })],
      [worker('w1', { labels: ['eu'] }), worker('w2', { labels: ['a100'] })],
    );
    expect(split).toMatchObject({
      code: 'labels_unmatched',
      message: 'no single online worker offers all of its labels (a100, eu)',
    });
  });

  it('size is judged among the workers with the labels only', () => {
    const r = codes(
      [job('t1', { labels: ['gpu'], resources: { cpus: 1, memory_mb: 1024, gpus: 2 } })],
      [
        worker('big', { total: { cpus: 8, memory_mb: 8192, gpus: 8 } }),
        worker('small', { labels: ['gpu'], total: { cpus: 8, memory_mb: 8192, gpus: 1 } }),
      ],
    );
    expect(r).toEqual(['too_large']);
  });

  it('room held by running tasks: workers_busy', () => {
    const w = worker('w1', {
      total: { cpus: 4, memory_mb: 8192, gpus: 1 },
      held: { cpus: 1, memory_mb: 1024, gpus: 1 },
    });
    const [r] = explainQueue([job('t1', { resources: { cpus: 1, memory_mb: 512, gpus: 1 } })], [w]);
    expect(r).toEqual({
      code: 'workers_busy',
      message: 'waiting for 1 cpus, 512 MiB, 1 gpus to free up on w1 (held by running tasks)',
      workers: ['w1'],
    });
  });

  it('a worker at its concurrency: workers_busy waiting for a slot', () => {
    const [r] = explainQueue([job('t1')], [worker('w1', { freeSlots: 0 })]);
    expect(r).toMatchObject({ code: 'workers_busy', workers: ['w1'] });
    expect(r!.message).toBe('waiting for a free slot: w1 runs as many tasks as it may');
    // One free slot: the first task takes it, the second waits behind it.
    expect(codes([job('a'), job('b')], [worker('w1', { freeSlots: 1 })])).toEqual([
      'ready',
      'earlier_task_ahead',
    ]);
  });

  it('fills workers in id order and spreads over them', () => {
    const small = { total: { cpus: 1, memory_mb: 8192, gpus: 0 } };
    const r = explainQueue(
      [job('t1'), job('t2'), job('t3')],
      [worker('w2', small), worker('w1', small)],
    );
    expect(r.map((x) => x.workers)).toEqual([['w1'], ['w2'], ['w1']]);
    expect(r[2]!.code).toBe('earlier_task_ahead');
  });

  it('explains 10,000 queued tasks, one reason each', () => {
    const queued = Array.from({ length: 10_000 }, (_, i) => job(`t${i}`, { priority: i % 3 }));
    const workers = Array.from({ length: 8 }, (_, i) => worker(`w${i}`));
    const r = explainQueue(queued, workers);
    expect(r).toHaveLength(10_000);
    expect(r.filter((x) => x.code === 'ready')).toHaveLength(32); // 8 workers x 4 cpus
  });

  it('every worker that could run it lacks its image: image_unavailable, saying how to provide it', () => {
    const img = job('t1', { image: 'localhost/missing:1' });
    const lacking = { images_missing: ['localhost/missing:1'], runtime: 'podman' };
    const [r] = explainQueue([img], [worker('w1', lacking), worker('w2', lacking)]);
    expect(r).toEqual({
      code: 'image_unavailable',
      message: expect.stringContaining(
        "image localhost/missing:1 is not available on any worker (w1, w2): provide it on a worker host with 'podman pull localhost/missing:1'",
      ) as string,
      workers: ['w1', 'w2'],
    });
    // One worker that has it (or runs no images) makes it claimable there.
    expect(codes([img], [worker('w1', lacking), worker('w2')])).toEqual(['ready']);
    expect(explainQueue([img], [worker('w1', lacking), worker('w2')])[0]?.workers).toEqual(['w2']);
    // A worker too small for it does not count; other tasks still run on the lacking worker.
    const small = worker('w3', { total: { cpus: 0.5, memory_mb: 8192, gpus: 0 } });
    expect(codes([img, job('t2')], [worker('w1', lacking), small])).toEqual([
      'image_unavailable',
      'ready',
    ]);
    // Busy with the image present elsewhere: it waits for that worker, not for the image.
    const busy = worker('w2', { held: { cpus: 4, memory_mb: 0, gpus: 0 } });
    expect(codes([img], [worker('w1', lacking), busy])).toEqual(['workers_busy']);
  });
});
