/**
 * @module worker
 * The worker: claims tasks that fit its free resources, runs each in the runtime with its lease
 * renewed, streams the log, stores `output/`, writes `run_manifest.json` and completes through the
 * lease fence (DESIGN.md "Queue semantics", "Run manifest", "Storage layout").
 *
 * Shutdown (`stop`): the worker stops claiming, stops every running job and gives each task back
 * to the queue (release + store `queued`), after removing the interrupted attempt's running
 * manifest, output dir and staging dir, so nothing half-written remains; the log keeps a
 * `[fetchml] worker shutting down; task re-queued` line. A task whose worker died without
 * stopping keeps its `running` manifest until the reaper re-queues it and the next attempt
 * overwrites it.
 *
 * Nothing runs at import time; `createWorker` only builds the object, `start` begins the work.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { coerceError } from '../core/errors.ts';
import type { WorkerContext } from './context.ts';
import { reportError } from './context.ts';
import { TypedEmitter } from './emitter.ts';
import { ImageGate } from './images.ts';
import type { RunningTask } from './loop.ts';
import { runClaimLoop, Sleeper } from './loop.ts';
import { AttemptPhases, workerPhase } from './phases.ts';
import { Slots } from './slots.ts';
import type {
  FetchmlWorker,
  StopOptions,
  WorkerDeps,
  WorkerEventMap,
  WorkerOptions,
  WorkerState,
} from './types.ts';

export type {
  FetchmlWorker,
  StopOptions,
  TaskOutcome,
  WorkerDeps,
  WorkerEventMap,
  WorkerOptions,
  WorkerResources,
  WorkerState,
} from './types.ts';
export { redactEnvironment, REDACTED, SECRET_KEY } from './redact.ts';

/** Default wait of a graceful stop, ms. */
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;

/**
 * Builds a worker (nothing starts until {@link FetchmlWorker.start}).
 * @example
 * const worker = createWorker(
 *   { id: newId('worker'), home, resources: { cpus: 4, memory_mb: 8192, gpus: 0, labels: [] },
 *     leaseMs: 30_000, heartbeatMs: 5_000, pollMs: 1_000, concurrency: 1, version, host },
 *   { store, queue, blobs, events, runtime: await detectRuntime('auto') },
 * );
 * await worker.start();
 * // on SIGINT:
 * await worker.stop({ graceful: true, timeoutMs: 30_000 });
 */
export function createWorker(options: WorkerOptions, deps: WorkerDeps): FetchmlWorker {
  const emitter = new TypedEmitter<WorkerEventMap>();
  const ctx: WorkerContext = {
    id: options.id,
    home: options.home,
    workRoot: options.workDir ?? join(options.home, 'cache', 'work'),
    host: options.host,
    version: options.version,
    leaseMs: options.leaseMs,
    heartbeatMs: options.heartbeatMs,
    deps: { ...deps, clock: deps.clock ?? Date.now },
    emitter,
  };
  const { cpus, memory_mb, gpus, labels } = options.resources;
  const slots = new Slots({ cpus, memory_mb, gpus }, options.gpuIndices);
  const running = new Map<string, RunningTask>();
  const sleeper = new Sleeper();
  const images = ImageGate.for(deps.runtime, {
    ...(options.imageRecheckMs === undefined ? {} : { recheckMs: options.imageRecheckMs }),
    onError: (err, image) => reportError(ctx, `check image ${image}`, err),
  });
  let state: WorkerState = 'created';
  let loop: Promise<void> = Promise.resolve();
  let beat: NodeJS.Timeout | null = null;
  let stopping: Promise<void> | null = null;
  let force: (() => void) | null = null;
  const phases = new AttemptPhases();

  const register = async (status: 'online' | 'draining' | 'offline') => {
    // Only attempts still held (one that ended without a finished event is dropped here).
    const held = phases.list().filter((t) => running.has(t.task_id));
    try {
      await deps.store.upsertWorker({
        id: ctx.id,
        host: ctx.host,
        runtime: deps.runtime.name,
        resources: { cpus, memory_mb, gpus },
        labels: [...labels],
        version: ctx.version,
        last_seen_at: new Date(ctx.deps.clock()).toISOString(),
        status,
        ...(images === null ? {} : { images_missing: images.missing() }),
        phase: status === 'offline' ? 'offline' : workerPhase(held, status === 'draining'),
        tasks: held,
        prewarm: null,
        heartbeat_ms: ctx.heartbeatMs,
        concurrency: Math.max(1, options.concurrency),
      });
    } catch (err) {
      reportError(ctx, 'register worker', coerceError(err));
    }
  };

  // Every phase change refreshes the record at once, so `ml status` does not wait for a heartbeat.
  const refresh = () => {
    if (state === 'running' || state === 'stopping') {
      void register(state === 'running' ? 'online' : 'draining');
    }
  };
  emitter.on('task:started', (e) => {
    phases.set(e.task_id, e.attempt, 'staging', ctx.deps.clock());
    refresh();
  });
  emitter.on('task:phase', (e) => {
    phases.set(e.task_id, e.attempt, e.phase, e.at);
    refresh();
  });
  emitter.on('task:finished', (e) => {
    phases.delete(e.task_id);
    refresh();
  });

  const stopAll = () => {
    for (const task of running.values()) {
      if (!task.controller.signal.aborted) task.controller.abort('shutdown');
    }
  };

  // A task queued (or re-queued) on a bus this worker hears wakes the claim loop at once instead
  // of at the next poll: the in-process bus of `fetchml up`, or a shared bus between machines.
  let unsubscribeQueued: (() => void) | null = null;

  const shutdown = async (graceful: boolean, timeoutMs: number) => {
    unsubscribeQueued?.();
    unsubscribeQueued = null;
    sleeper.wake();
    await register('draining');
    stopAll();
    await loop; // a claim in flight is given back by the loop itself
    stopAll();
    if (graceful && running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...running.values()].map((t) => t.done)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
          force = resolve;
        }),
      ]);
      clearTimeout(timer);
    }
    if (beat) clearInterval(beat);
    beat = null;
    state = 'stopped';
    await register('offline');
    emitter.emit('worker:stopped', { worker_id: ctx.id });
  };

  return {
    id: ctx.id,
    get state() {
      return state;
    },
    running: () => [...running.keys()],
    on: (event, listener) => emitter.on(event, listener),

    async start() {
      if (state !== 'created') return;
      await mkdir(ctx.workRoot, { recursive: true });
      if (state !== 'created') return; // stopped while the dir was made
      state = 'running';
      unsubscribeQueued = deps.events.subscribe('*', (event) => {
        if (event.type === 'task.status' && event.status === 'queued') sleeper.wake();
      });
      await register('online');
      beat = setInterval(() => {
        void register(state === 'running' ? 'online' : 'draining');
      }, ctx.heartbeatMs);
      loop = runClaimLoop({
        ctx,
        slots,
        labels,
        concurrency: Math.max(1, options.concurrency),
        pollMs: options.pollMs,
        running,
        sleeper,
        active: () => state === 'running',
        images,
        onImagesChanged: () => void register('online'),
      });
      emitter.emit('worker:started', { worker_id: ctx.id });
    },

    stop(stopOptions: StopOptions = {}) {
      if (stopping) {
        force?.();
        return stopping;
      }
      if (state === 'created' || state === 'stopped') {
        state = 'stopped';
        return Promise.resolve();
      }
      state = 'stopping';
      stopping = shutdown(
        stopOptions.graceful ?? true,
        stopOptions.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
      );
      return stopping;
    },
  };
}
