/**
 * @module worker/types
 * The worker's public shapes: what `createWorker` takes (options + injected backends), what it
 * returns, and the typed lifecycle events it emits (STYLE.md §14) so `fetchml up/worker`, the
 * status view and tests can observe it without reaching into its internals.
 *
 * Glossary:
 * - slot: one of `concurrency` places a claimed task can run in.
 * - held resources: what the tasks running in this worker asked for (cpus, memory, GPUs); a claim
 *   only offers the queue what is left (total − held).
 * - outcome: how one attempt ended for this worker: a final status it recorded (completed, failed,
 *   cancelled), `requeued` (given back on shutdown) or `lease_lost` (another attempt owns it now,
 *   so this worker recorded nothing).
 */
import type { BlobStore } from '../blobs/types.ts';
import type { FetchmlError } from '../core/errors.ts';
import type { EventBus } from '../events/types.ts';
import type { JobQueue } from '../queue/types.ts';
import type { Runtime } from '../runtime/types.ts';
import type { MetadataStore } from '../store/types.ts';

/** What the worker offers in total. */
export interface WorkerResources {
  cpus: number;
  memory_mb: number;
  gpus: number;
  /** A job's labels must all be in this list for the worker to claim it. */
  labels: string[];
}

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  /** Stable worker id (`worker_…`); names the lease holder and the store record. */
  id: string;
  /** The base dir (`$FETCHML_HOME`): task files go to `<home>/experiments/<task-id>/`. */
  home: string;
  /** Staging root for snapshots. @default `<home>/cache/work` */
  workDir?: string;
  resources: WorkerResources;
  /** Host GPU indices this worker may hand out. @default `0 … resources.gpus − 1` */
  gpuIndices?: number[];
  /** Lease length asked of the queue, ms. */
  leaseMs: number;
  /** How often leases are renewed and the worker record refreshed, ms (well under `leaseMs`). */
  heartbeatMs: number;
  /** How long an idle worker waits before asking the queue again, ms. */
  pollMs: number;
  /** Tasks run at once, at most. */
  concurrency: number;
  /** fetchml version, recorded in manifests and the worker record. */
  version: string;
  /** Host name, recorded in manifests and the worker record. */
  host: string;
  /**
   * Container runtimes: how long an image found missing counts as missing before the engine is
   * asked again, ms (./images.ts). @default 5000
   */
  imageRecheckMs?: number;
}

/** The backends the worker uses; all injected (the composition root picks implementations). */
export interface WorkerDeps {
  store: MetadataStore;
  queue: JobQueue;
  blobs: BlobStore;
  events: EventBus;
  runtime: Runtime;
  /**
   * Where tasks without an `image` run when {@link runtime} is a container runtime (which needs
   * an image): the sandbox or process runtime. Unset: every task runs in `runtime`.
   */
  hostRuntime?: Runtime;
  /** ms since the epoch, for recorded times. @default Date.now */
  clock?: () => number;
}

/** created → running (after start) → stopping (after stop) → stopped. */
export type WorkerState = 'created' | 'running' | 'stopping' | 'stopped';

/** How one attempt ended for this worker (see the glossary). */
export type TaskOutcome = 'completed' | 'failed' | 'cancelled' | 'requeued' | 'lease_lost';

/** Typed lifecycle events; keys are namespaced as in STYLE.md §14. */
export interface WorkerEventMap {
  'worker:started': { worker_id: string };
  'worker:stopped': { worker_id: string };
  'task:claimed': { task_id: string; attempt: number; lease_id: string; at: number };
  'task:started': { task_id: string; attempt: number; runtime: string; gpu_indices: number[] };
  /**
   * The attempt moved on: `running` when the job's process starts (staging done; `entered_queue_at`:
   * when the attempt entered the queue, ms), `finishing` when it has ended and its output is stored.
   */
  'task:phase': {
    task_id: string;
    attempt: number;
    phase: 'running' | 'finishing';
    /** ms since the epoch. */
    at: number;
    entered_queue_at: number;
  };
  'task:finished': {
    task_id: string;
    attempt: number;
    outcome: TaskOutcome;
    exit_code: number | null;
    error: { code: string; message: string } | null;
  };
  'lease:lost': { task_id: string; attempt: number };
  /** Something went wrong that the worker survived (a store write, a claim, a task's staging). */
  error: { error: FetchmlError; task_id?: string; where: string };
}

/** Options of {@link FetchmlWorker.stop}. */
export interface StopOptions {
  /**
   * true: stop running tasks, re-queue them and wait (up to `timeoutMs`) until each is given back.
   * false: stop them and return without waiting; unreleased leases expire and the reaper re-queues.
   * @default true
   */
  graceful?: boolean;
  /** How long a graceful stop waits for running tasks. @default 30000 */
  timeoutMs?: number;
}

/** The object {@link createWorker} returns. */
export interface FetchmlWorker {
  readonly id: string;
  readonly state: WorkerState;
  /** Registers the worker and starts claiming. Idempotent while running. */
  start(): Promise<void>;
  /**
   * Stops claiming, stops and re-queues running tasks, marks the worker offline. Idempotent; a
   * second call while the first is waiting forces it to finish now.
   */
  stop(options?: StopOptions): Promise<void>;
  /** Ids of the tasks running now. */
  running(): string[];
  /** Subscribes to a lifecycle event; returns the unsubscribe function. */
  on<K extends keyof WorkerEventMap>(
    event: K,
    listener: (payload: WorkerEventMap[K]) => void,
  ): () => void;
}
