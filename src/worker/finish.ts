/**
 * @module worker/finish
 * The three ways an attempt ends for this worker, each written so that a crash at any point leaves
 * an explainable state:
 *
 * - {@link recordFinal}: the run ended (completed, failed, cancelled). The lease is renewed first
 *   (a fence check), then the final manifest is written, then the queue transition (fenced by the
 *   lease), then the store. A crash before the queue transition re-runs the task after its lease
 *   expires (at-least-once; the next attempt rewrites the manifest). If the fence refuses at the
 *   last step, the manifest just written is removed again, so a newer attempt is never described
 *   by a stale result.
 * - {@link requeue}: graceful shutdown. The half-written parts of the attempt (running manifest,
 *   output dir, staging dir) are removed *before* the lease is released, because the next claim
 *   reuses the same attempt number and paths; the log keeps a system line saying what happened.
 * - {@link abandonLost}: the lease is gone; another attempt owns the task. Nothing is recorded
 *   except one system line in the log.
 */
import { rm } from 'node:fs/promises';

import { coerceError, isFetchmlError } from '../core/errors.ts';
import { taskFiles } from '../core/layout.ts';
import type { Artifact, RunManifest } from '../core/schemas/manifest.ts';
import type { AttemptState, WorkerContext } from './context.ts';
import { isoNow, publishStatus, reportError } from './context.ts';
import {
  buildManifest,
  manifestAttempt,
  removeManifestOf,
  writeManifest,
} from './manifest-writer.ts';
import { redactEnvironment } from './redact.ts';
import { cleanStage } from './stage.ts';
import type { TaskOutcome } from './types.ts';

/** The final facts of an attempt that ran (or failed to start). */
export interface FinalState {
  status: 'completed' | 'failed' | 'cancelled';
  exitCode: number | null;
  error: { code: string; message: string } | null;
  endedAt: string;
  artifacts: readonly Artifact[];
  metrics: Record<string, unknown>;
}

/** The attempt's manifest with the given status and end facts. */
export function manifestFor(
  ctx: WorkerContext,
  a: AttemptState,
  end: {
    status: RunManifest['status'];
    artifacts: readonly Artifact[];
    metrics: Record<string, unknown>;
    endedAt: string | null;
    exitCode: number | null;
    error?: { code: string; message: string } | null;
  },
): RunManifest {
  const { plan } = a.task;
  return buildManifest({
    task: a.task,
    status: end.status,
    attempt: a.claim.attempt,
    worker: {
      id: ctx.id,
      host: ctx.host,
      runtime: a.runtime.name,
      version: ctx.version,
    },
    imageDigest: a.imageDigest,
    ...(a.datasets
      ? {
          datasets: a.datasets.map((d) => ({ name: d.name, checksum: d.checksum, verified: true })),
        }
      : {}),
    assigned: {
      cpus: plan.resources.cpus,
      memory_mb: plan.resources.memory_mb,
      gpu_indices: a.gpuIndices,
    },
    warnings: a.warnings,
    startedAt: a.startedAt,
    endedAt: end.endedAt,
    exitCode: end.exitCode,
    error: end.error ?? null,
    artifacts: end.artifacts,
    metrics: end.metrics,
    environment: redactEnvironment(plan.env, [
      { path: ctx.workRoot, placeholder: '$FETCHML_WORK' },
      { path: ctx.home, placeholder: '$FETCHML_HOME' },
    ]),
  });
}

/** Removes the attempt's staging dir once (never after a re-queue handed the paths on). */
export async function cleanOnce(a: AttemptState): Promise<void> {
  if (a.cleaned) return;
  a.cleaned = true;
  await cleanStage(a.dirs);
}

/** The lease is gone: log it, record nothing. */
export function abandonLost(ctx: WorkerContext, a: AttemptState, why: string): TaskOutcome {
  a.log.system(`${why}; another attempt owns this task now, so this one records nothing`);
  ctx.emitter.emit('task:finished', {
    task_id: a.task.id,
    attempt: a.claim.attempt,
    outcome: 'lease_lost',
    exit_code: null,
    error: null,
  });
  return 'lease_lost';
}

/** Records the end of a run; see the module doc for the order. */
export async function recordFinal(
  ctx: WorkerContext,
  a: AttemptState,
  final: FinalState,
): Promise<TaskOutcome> {
  const { store, queue, events } = ctx.deps;
  const id = a.task.id;
  const attempt = a.claim.attempt;
  const manifestPath = taskFiles(ctx.home).manifestPath(id);

  // Fence check: only a worker that still holds the lease may write the final manifest.
  const owned = await a.heartbeat.renewNow();
  await a.heartbeat.stop();
  if (!owned || a.heartbeat.lost) return abandonLost(ctx, a, 'lease lost before the result');
  const onDisk = await manifestAttempt(manifestPath);
  if (onDisk !== null && onDisk > attempt) {
    return abandonLost(ctx, a, `attempt ${onDisk} has started`);
  }

  try {
    await writeManifest(manifestPath, manifestFor(ctx, a, final));
  } catch (err) {
    reportError(ctx, 'write final manifest', coerceError(err), id);
    a.log.system(`could not write run_manifest.json: ${coerceError(err).message}`);
  }

  try {
    if (final.status === 'completed') await queue.complete(id, a.claim.lease_id);
    else if (final.status === 'cancelled') await queue.finishCancelled(id, a.claim.lease_id);
    else await queue.fail(id, a.claim.lease_id, { retry: false });
  } catch (err) {
    await removeManifestOf(manifestPath, attempt).catch(() => undefined);
    if (isFetchmlError(err, 'ML_ERR_LEASE_LOST')) {
      ctx.emitter.emit('lease:lost', { task_id: id, attempt });
      return abandonLost(ctx, a, 'lease lost while recording the result');
    }
    reportError(ctx, 'record result in queue', coerceError(err), id);
    return abandonLost(
      ctx,
      a,
      `could not record the result (${coerceError(err).message}); it runs again when its lease expires`,
    );
  }

  try {
    await store.finishTask(id, {
      status: final.status,
      exit_code: final.exitCode,
      error: final.error,
      ended_at: final.endedAt,
    });
  } catch (err) {
    reportError(ctx, 'record result in store', coerceError(err), id);
  }
  await publishStatus(events, {
    task_id: id,
    status: final.status,
    attempt,
    exit_code: final.exitCode,
    at: final.endedAt,
  });
  ctx.emitter.emit('task:finished', {
    task_id: id,
    attempt,
    outcome: final.status,
    exit_code: final.exitCode,
    error: final.error,
  });
  return final.status;
}

/** Gives the task back to the queue on shutdown; see the module doc. */
export async function requeue(ctx: WorkerContext, a: AttemptState): Promise<TaskOutcome> {
  const { store, queue, events } = ctx.deps;
  const id = a.task.id;
  const attempt = a.claim.attempt;
  await a.heartbeat.stop();
  if (a.heartbeat.lost) return abandonLost(ctx, a, 'lease lost during shutdown');
  a.log.system('worker shutting down; task re-queued');
  await removeManifestOf(taskFiles(ctx.home).manifestPath(id), attempt).catch(() => undefined);
  await rm(a.dirs.outputDir, { recursive: true, force: true }).catch(() => undefined);
  await cleanOnce(a);
  try {
    await queue.release(id, a.claim.lease_id);
  } catch (err) {
    if (isFetchmlError(err, 'ML_ERR_LEASE_LOST')) {
      return abandonLost(ctx, a, 'lease lost during shutdown');
    }
    reportError(ctx, 'release lease', coerceError(err), id);
    return abandonLost(ctx, a, 'could not release the lease; it is re-queued when it expires');
  }
  const at = isoNow(ctx);
  try {
    await store.markTaskQueued(id, { attempt: attempt - 1, at });
  } catch (err) {
    reportError(ctx, 'mark task queued', coerceError(err), id);
  }
  await publishStatus(events, {
    task_id: id,
    status: 'queued',
    attempt: attempt - 1,
    exit_code: null,
    at,
  });
  ctx.emitter.emit('task:finished', {
    task_id: id,
    attempt,
    outcome: 'requeued',
    exit_code: null,
    error: null,
  });
  return 'requeued';
}
