/**
 * @module worker/context
 * What every part of the worker shares: its resolved options, its backends and its event emitter
 * ({@link WorkerContext}), plus the state of one attempt in flight ({@link AttemptState}). Kept in
 * one small module so execute.ts and finish.ts take one argument instead of ten.
 */
import type { Runtime } from '../runtime/types.ts';
import type { FetchmlError } from '../core/errors.ts';
import type { Task } from '../core/schemas/task.ts';
import type { EventBus } from '../events/types.ts';
import type { Claim } from '../queue/types.ts';
import type { TypedEmitter } from './emitter.ts';
import type { Heartbeat } from './heartbeat.ts';
import type { LogWriter } from './log-writer.ts';
import type { StagedDataset, StagedDirs } from './stage.ts';
import type { WorkerDeps, WorkerEventMap } from './types.ts';

/** The worker-wide context. */
export interface WorkerContext {
  id: string;
  home: string;
  workRoot: string;
  host: string;
  version: string;
  leaseMs: number;
  heartbeatMs: number;
  deps: WorkerDeps & { clock: () => number };
  emitter: TypedEmitter<WorkerEventMap>;
}

/** Why an attempt was asked to stop. */
export type StopReason = 'cancelled' | 'lease_lost' | 'shutdown';

/** One attempt in flight. */
export interface AttemptState {
  claim: Claim;
  task: Task;
  gpuIndices: number[];
  /** Aborts the run; its abort reason is the {@link StopReason}. */
  controller: AbortController;
  /** Why the attempt was stopped (the controller's abort reason), or null. */
  readonly reason: StopReason | null;
  dirs: StagedDirs;
  log: LogWriter;
  heartbeat: Heartbeat;
  startedAt: string;
  /** Runtime and per-run warnings, in order (recorded in the manifest). */
  warnings: string[];
  /** Set once the staging dir was removed (it must not be removed after a re-queue). */
  cleaned: boolean;
  /** Digest of the container image the job runs in (container runtimes), for the manifest. */
  imageDigest: string | null;
  /** The runtime this attempt runs in (see {@link runtimeFor}). */
  runtime: Runtime;
  /** Datasets staged and verified for this attempt (recorded in the manifest); unset before. */
  datasets?: StagedDataset[];
}

/**
 * The runtime for a task: a task that names an image runs in the worker's runtime; one without
 * an image runs on the host runtime when the worker has one (a container runtime cannot run a
 * job without an image; the sandbox runs it on the host's system directories, read-only).
 */
export function runtimeFor(ctx: WorkerContext, task: Task): Runtime {
  const { runtime, hostRuntime } = ctx.deps;
  return task.plan.image.base === null && hostRuntime ? hostRuntime : runtime;
}

/** ISO time by the worker's clock. */
export function isoNow(ctx: WorkerContext): string {
  return new Date(ctx.deps.clock()).toISOString();
}

/** Publishes a `task.status` event (best-effort: the store holds the truth). */
export async function publishStatus(
  events: EventBus,
  e: { task_id: string; status: string; attempt: number; exit_code: number | null; at: string },
): Promise<void> {
  await events.publish({ type: 'task.status', ...e }).catch(() => undefined);
}

/** Emits an `error` event. */
export function reportError(
  ctx: WorkerContext,
  where: string,
  error: FetchmlError,
  taskId?: string,
): void {
  ctx.emitter.emit('error', { error, where, ...(taskId === undefined ? {} : { task_id: taskId }) });
}
