/**
 * @module worker/execute
 * One attempt of one task, from claim to final state: mark running, stage, write the `running`
 * manifest, run in the runtime while streaming the log, collect `output/`, and hand over to
 * ./finish.ts. The lease is renewed throughout by ./heartbeat.ts; its answers steer the run
 * (cancel → stop the job, lost → stop the job and record nothing).
 *
 * {@link executeAttempt} never rejects: every failure of a task becomes a recorded state (or an
 * `error` event when even that fails), so a bad task can never take the worker down.
 *
 * How a runtime result becomes a status and exit code: ./verdict.ts.
 */
import { coerceError } from '../core/errors.ts';
import type { FetchmlError } from '../core/errors.ts';
import { taskFiles } from '../core/layout.ts';
import { verifyTaskPlan } from '../core/plan.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';
import type { RunResult } from '../runtime/types.ts';
import { collectArtifacts } from './artifacts.ts';
import type { AttemptState, StopReason, WorkerContext } from './context.ts';
import { isoNow, publishStatus, reportError, runtimeFor } from './context.ts';
import type { FinalState } from './finish.ts';
import { abandonLost, cleanOnce, manifestFor, recordFinal, requeue } from './finish.ts';
import { startHeartbeat } from './heartbeat.ts';
import { openLogWriter } from './log-writer.ts';
import { writeManifest } from './manifest-writer.ts';
import { collectMetrics, describeMetrics } from './metrics.ts';
import { enteredQueueAt } from './phases.ts';
import { judge } from './verdict.ts';
import { stageAttempt } from './stage.ts';
import type { StagedDirs } from './stage.ts';
import type { TaskOutcome } from './types.ts';

/** What the claim loop hands over. */
export interface AttemptInput {
  claim: AttemptState['claim'];
  task: AttemptState['task'];
  gpuIndices: number[];
  dirs: StagedDirs;
  /**
   * Stops the attempt; its abort reason is the {@link StopReason} (the loop aborts with
   * `shutdown`, the heartbeat with `cancelled` or `lease_lost`). The first reason wins.
   */
  controller: AbortController;
}

/** A failure before the job ran: the error itself becomes the task's error. */
function failedBeforeRun(ctx: WorkerContext, a: AttemptState, err: FetchmlError): FinalState {
  a.log.system(`error: ${err.code}: ${err.message}`);
  a.warnings.push(`${err.code}: ${err.message}`);
  return {
    status: 'failed',
    exitCode: null,
    error: { code: err.code, message: err.message },
    endedAt: isoNow(ctx),
    artifacts: [],
    metrics: {},
  };
}

/** Ends an attempt that was stopped before or during the run, by reason. */
async function endStopped(ctx: WorkerContext, a: AttemptState): Promise<TaskOutcome> {
  if (a.reason === 'lease_lost' || a.heartbeat.lost) return abandonLost(ctx, a, 'lease lost');
  if (a.reason === 'shutdown') return requeue(ctx, a);
  a.log.system('cancelled before the job started');
  return recordFinal(ctx, a, {
    status: 'cancelled',
    exitCode: null,
    error: { code: 'ML_ERR_TASK_CANCELLED', message: 'cancelled by request' },
    endedAt: isoNow(ctx),
    artifacts: [],
    metrics: {},
  });
}

async function runAndCollect(ctx: WorkerContext, a: AttemptState): Promise<TaskOutcome> {
  const { store, blobs } = ctx.deps;
  const { runtime } = a;
  const { task } = a;
  const { plan } = task;
  const stopped = () => a.controller.signal.aborted;

  // The plan must still follow from the task's recorded commit and spec: a task record changed
  // after it was queued fails here (ML_ERR_PLAN_MISMATCH) before anything of it runs.
  let commit: TreeManifest | null;
  try {
    commit = await store.getCommit(task.commit_id);
    if (commit) {
      verifyTaskPlan(task, commit);
      a.log.system(`plan ${task.plan_sha256} re-resolved from commit and spec: matches`);
    }
  } catch (err) {
    return recordFinal(ctx, a, failedBeforeRun(ctx, a, coerceError(err)));
  }

  if (runtime.resolveImage) {
    // Container runtimes: the worker claimed the task because its image was here (./images.ts);
    // resolve it again for the digest in the manifest. An image removed since the check fails the
    // task now (ML_ERR_IMAGE_UNAVAILABLE, saying how to provide it), before anything is staged.
    try {
      const image = await runtime.resolveImage(plan.image.base);
      a.imageDigest = image.digest;
      a.log.system(`image ${image.reference} (${image.digest})`);
    } catch (err) {
      return recordFinal(ctx, a, failedBeforeRun(ctx, a, coerceError(err)));
    }
  }
  try {
    const link = runtime.isolation === 'none' ? 'copy' : 'auto';
    const stats = await stageAttempt({
      dirs: a.dirs,
      plan,
      manifest: commit,
      blobs,
      link,
      catalog: store,
    });
    a.datasets = stats.datasets;
    for (const d of stats.datasets) {
      a.log.system(
        `dataset ${d.name} v${d.version} (${d.checksum}): ${d.files} files, ${d.bytes} bytes, verified`,
      );
    }
    a.log.system(
      `staged ${stats.files} files (${stats.bytes} bytes; ${stats.linked} linked, ${stats.copied} copied) in ${Math.round(stats.ms)} ms`,
    );
  } catch (err) {
    if (stopped()) return endStopped(ctx, a);
    return recordFinal(ctx, a, failedBeforeRun(ctx, a, coerceError(err)));
  }
  if (stopped()) return endStopped(ctx, a);

  const manifestPath = taskFiles(ctx.home).manifestPath(task.id);
  let running;
  try {
    running = manifestFor(ctx, a, {
      status: 'running',
      artifacts: [],
      metrics: {},
      endedAt: null,
      exitCode: null,
    });
  } catch (err) {
    return recordFinal(ctx, a, failedBeforeRun(ctx, a, coerceError(err)));
  }
  // The running manifest is crash insurance, not an input of the run: it is written while the job
  // starts, which keeps its two fsyncs (5-10 ms) off the claim-to-first-output latency.
  const runningWritten = writeManifest(manifestPath, running).catch((err: unknown) => {
    const e = coerceError(err);
    reportError(ctx, 'write running manifest', e, task.id);
    a.log.system(`warning: could not write the running manifest: ${e.message}`);
  });

  // Staged: the job's process starts now (the worker record's phase; enqueue-to-start metric).
  const phase = (p: 'running' | 'finishing') =>
    ctx.emitter.emit('task:phase', {
      task_id: task.id,
      attempt: a.claim.attempt,
      phase: p,
      at: ctx.deps.clock(),
      entered_queue_at: enteredQueueAt(task, a.claim.attempt),
    });
  phase('running');
  let result: RunResult;
  try {
    result = await runtime.run({
      taskId: task.id,
      argv: [...plan.command, ...plan.args],
      workDir: a.dirs.srcDir,
      outputDir: a.dirs.outputDir,
      datasets: (a.datasets ?? []).map((d) => ({ name: d.name, hostPath: d.hostPath })),
      env: plan.env,
      resources: {
        cpus: plan.resources.cpus,
        memory_mb: plan.resources.memory_mb,
        gpuIndices: a.gpuIndices,
      },
      network: plan.network,
      timeoutMs: plan.timeout_s === null ? null : Math.round(plan.timeout_s * 1000),
      image: plan.image.base,
      signal: a.controller.signal,
      // After a lost lease the new attempt owns the log: the stopping job's last words are dropped.
      onOutput: (stream, chunk) => {
        if (!a.heartbeat.lost) a.log.output(stream, chunk);
      },
    });
  } catch (err) {
    await runningWritten;
    const e = coerceError(err);
    if (stopped() && a.reason !== 'cancelled') return endStopped(ctx, a);
    return recordFinal(ctx, a, failedBeforeRun(ctx, a, e));
  }
  await runningWritten;
  for (const w of result.warnings) {
    a.log.system(`warning: ${w}`);
    a.warnings.push(w);
  }
  if (a.heartbeat.lost || a.reason === 'lease_lost') return abandonLost(ctx, a, 'lease lost');
  if (a.reason === 'shutdown' && result.reason === 'cancelled') return requeue(ctx, a);

  phase('finishing');
  const verdict = judge(result, plan.timeout_s);
  a.log.system(verdict.line);
  const { line: _line, ...final } = verdict;
  const endedAt = isoNow(ctx);
  let artifacts: FinalState['artifacts'] = [];
  let metrics: FinalState['metrics'] = {};
  try {
    const collected = await collectArtifacts(a.dirs.outputDir, blobs);
    for (const w of collected.warnings) {
      a.log.system(`warning: ${w}`);
      a.warnings.push(w);
    }
    artifacts = collected.artifacts;
    const read = await collectMetrics(a.dirs.outputDir);
    metrics = read.final;
    a.log.system(describeMetrics(read));
    for (const w of read.warnings) {
      a.log.system(`warning: ${w}`);
      a.warnings.push(w);
    }
    a.log.system(`stored ${artifacts.length} artifacts (${collected.bytes} bytes)`);
  } catch (err) {
    const e = coerceError(err);
    a.log.system(`error: could not store output/: ${e.message}`);
    a.warnings.push(`could not store output/: ${e.message}`);
    if (final.status === 'completed') {
      return recordFinal(ctx, a, {
        ...final,
        status: 'failed',
        error: { code: e.code, message: `could not store output/: ${e.message}` },
        endedAt,
        artifacts,
        metrics,
      });
    }
  }
  return recordFinal(ctx, a, { ...final, endedAt, artifacts, metrics });
}

/**
 * Runs one claimed attempt to its end (see the module doc). Never rejects.
 * @returns how the attempt ended for this worker.
 */
export async function executeAttempt(
  ctx: WorkerContext,
  input: AttemptInput,
): Promise<TaskOutcome> {
  const { task, claim } = input;
  const { store, events } = ctx.deps;
  const runtime = runtimeFor(ctx, task);
  const { signal } = input.controller;
  const stop = (reason: StopReason) => {
    if (!signal.aborted) input.controller.abort(reason);
  };
  const heartbeat = startHeartbeat({
    queue: ctx.deps.queue,
    taskId: task.id,
    leaseId: claim.lease_id,
    leaseMs: ctx.leaseMs,
    intervalMs: ctx.heartbeatMs,
    onCancel: () => stop('cancelled'),
    onLost: () => {
      ctx.emitter.emit('lease:lost', { task_id: task.id, attempt: claim.attempt });
      stop('lease_lost');
    },
    onError: (err) => reportError(ctx, 'heartbeat', err, task.id),
  });
  try {
    const log = await openLogWriter({
      path: taskFiles(ctx.home).logPath(task.id),
      taskId: task.id,
      events,
      clock: ctx.deps.clock,
      onError: (err) => reportError(ctx, 'write log', coerceError(err), task.id),
    });
    const state: AttemptState = {
      claim,
      task,
      gpuIndices: input.gpuIndices,
      controller: input.controller,
      get reason() {
        return signal.aborted ? (signal.reason as StopReason) : null;
      },
      dirs: input.dirs,
      log,
      heartbeat,
      startedAt: isoNow(ctx),
      warnings: [...runtime.warnings],
      cleaned: false,
      imageDigest: null,
      runtime,
    };
    try {
      log.systemRaw(`--- attempt ${claim.attempt} on worker ${ctx.id} ---`);
      for (const w of runtime.warnings) log.system(`warning: ${w}`);
      try {
        await store.markTaskRunning(task.id, {
          worker_id: ctx.id,
          attempt: claim.attempt,
          started_at: state.startedAt,
        });
      } catch (err) {
        return await recordFinal(ctx, state, failedBeforeRun(ctx, state, coerceError(err)));
      }
      await publishStatus(events, {
        task_id: task.id,
        status: 'running',
        attempt: claim.attempt,
        exit_code: null,
        at: state.startedAt,
      });
      ctx.emitter.emit('task:started', {
        task_id: task.id,
        attempt: claim.attempt,
        runtime: runtime.name,
        gpu_indices: input.gpuIndices,
      });
      return await runAndCollect(ctx, state);
    } finally {
      await heartbeat.stop();
      await log.close();
      await cleanOnce(state);
    }
  } catch (err) {
    await heartbeat.stop();
    reportError(ctx, 'execute attempt', coerceError(err), task.id);
    return 'lease_lost';
  }
}
