/**
 * @module server/task-actions
 * What the task routes do, as functions over the injected backends: submit (plan + preflight +
 * store + queue + event) and cancel. The store keeps the task's record and the queue its place in
 * line; every change here writes the store and the queue in an order that a crash between the two
 * leaves explainable (a task marked failed, never a queued task the queue does not know).
 */
import { FetchmlError, isFetchmlError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { resolveDatasets } from '../data/catalog.ts';
import { newQueuedTask } from '../core/new-task.ts';
import { assertPreflight, resolvePlan } from '../core/plan.ts';
import type { ResolvedPlan } from '../core/plan.ts';
import type { CreateTaskRequest } from '../core/schemas/api.ts';
import type { z } from 'zod';
import type { Task } from '../core/schemas/task.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';
import { TERMINAL_STATUSES } from '../core/schemas/task.ts';
import type { CancelResult } from '../queue/types.ts';
import type { RouteContext } from './context.ts';
import { nowIso } from './context.ts';
import type { Principal } from './types.ts';

/** Default attempts per task (the first run plus two re-runs after a lost worker). */
export const DEFAULT_MAX_ATTEMPTS = 3;

type CreateTaskInput = z.output<typeof CreateTaskRequest>;

/** Loads the task or throws ML_ERR_TASK_NOT_FOUND. */
export async function loadTask(ctx: RouteContext, id: string): Promise<Task> {
  const task = await ctx.store.getTask(id);
  if (!task) {
    throw new FetchmlError('ML_ERR_TASK_NOT_FOUND', `no such task: ${id}`, {
      details: { task_id: id },
    });
  }
  return task;
}

/** Publishes a task's current status (best-effort: events are for live views). */
export async function publishStatus(ctx: RouteContext, task: Task): Promise<void> {
  try {
    await ctx.events.publish({
      type: 'task.status',
      task_id: task.id,
      status: task.status,
      attempt: task.attempt,
      exit_code: task.exit_code,
      at: task.updated_at,
    });
  } catch {
    // The store has the truth; a subscriber that missed this re-reads it.
  }
}

/** What a submission names to resolve its plan (POST /v1/tasks and POST /v1/plan). */
export type SubmissionInput = Pick<
  CreateTaskInput,
  'commit_id' | 'spec' | 'args' | 'resources' | 'timeout_s' | 'repro_policy'
>;

/**
 * Resolves a submission's plan and runs every preflight check, against what the registered
 * workers offer: the one path shared by POST /v1/tasks (which then blocks a failing strict
 * preflight) and POST /v1/plan (`ml explain`, `ml validate`, which show it).
 */
export async function planSubmission(
  ctx: RouteContext,
  input: SubmissionInput,
  manifest: TreeManifest,
): Promise<ResolvedPlan> {
  const workers = await ctx.store.listWorkers();
  return resolvePlan({
    commitId: input.commit_id,
    manifest,
    spec: input.spec,
    args: input.args,
    capacity: workers.map((w) => w.resources),
    ...(input.resources ? { resources: input.resources } : {}),
    ...(input.timeout_s !== undefined ? { timeoutS: input.timeout_s } : {}),
    ...(input.repro_policy !== undefined ? { policy: input.repro_policy } : {}),
  });
}

/** Resolves the plan, runs the strict preflight, stores and enqueues the task. */
export async function submitTask(
  ctx: RouteContext,
  input: CreateTaskInput,
  principal: Principal,
): Promise<Task> {
  const manifest = await ctx.store.getCommit(input.commit_id);
  if (!manifest) {
    throw new FetchmlError(
      'ML_ERR_COMMIT_NOT_FOUND',
      `no such commit: ${input.commit_id} (sync it first: ml sync)`,
      { details: { commit_id: input.commit_id } },
    );
  }
  const resolved = await planSubmission(ctx, input, manifest);
  assertPreflight(resolved);
  // Datasets live in the server's catalog: one that is unknown, or pinned to a checksum no
  // version has, cannot be staged, so it blocks the submission (whatever the policy).
  await resolveDatasets(ctx.store, resolved.plan.datasets);
  const task = newQueuedTask({
    id: newId('task', ctx.clock()),
    user: principal.user,
    commitId: input.commit_id,
    spec: input.spec,
    resolved,
    priority: input.priority,
    maxAttempts: input.max_attempts ?? DEFAULT_MAX_ATTEMPTS,
    now: nowIso(ctx),
  });
  await ctx.store.createTask(task);
  try {
    await ctx.queue.enqueue({
      task_id: task.id,
      priority: task.priority,
      resources: task.resources,
      labels: task.labels,
      max_attempts: task.max_attempts,
      image: task.plan.image.base,
    });
  } catch (err) {
    const failed = await ctx.store.finishTask(task.id, {
      status: 'failed',
      exit_code: null,
      error: { code: 'ML_ERR_UNAVAILABLE', message: 'could not enqueue the task' },
      ended_at: nowIso(ctx),
    });
    await publishStatus(ctx, failed);
    throw err;
  }
  await publishStatus(ctx, task);
  return task;
}

/** Cancels a task: removes it when queued, signals its worker when running. */
export async function cancelTask(
  ctx: RouteContext,
  id: string,
): Promise<{ task_id: string; outcome: CancelResult; task: Task }> {
  let task = await loadTask(ctx, id);
  if (TERMINAL_STATUSES.includes(task.status))
    return { task_id: id, outcome: 'already_finished', task };
  const outcome = await ctx.queue.cancel(id);
  try {
    if (outcome === 'removed') {
      task = await ctx.store.finishTask(id, {
        status: 'cancelled',
        exit_code: null,
        error: { code: 'ML_ERR_TASK_CANCELLED', message: 'cancelled before it started' },
        ended_at: nowIso(ctx),
      });
      await publishStatus(ctx, task);
    } else if (outcome === 'signalled') {
      task = await ctx.store.setCancelRequested(id);
    }
  } catch (err) {
    // The worker finished it between our read and write: report what is stored now.
    if (!isFetchmlError(err, 'ML_ERR_TASK_STATE')) throw err;
    task = await loadTask(ctx, id);
  }
  return { task_id: id, outcome, task };
}
