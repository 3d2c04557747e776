/**
 * @module core/new-task
 * The record of a task just submitted: status `queued`, attempt 0, no worker, and its plan,
 * resources and trust level taken from the resolved plan. The server's submit builds tasks with
 * {@link newQueuedTask}, and so do tests that submit without a server, so the two cannot drift.
 */
import type { ResolvedPlan } from './plan.ts';
import type { Task } from './schemas/task.ts';

/** Inputs of {@link newQueuedTask}. */
export interface NewTaskInput {
  id: string;
  user: string;
  commitId: string;
  spec: Task['spec'];
  resolved: ResolvedPlan;
  /** @default spec.priority */
  priority?: number | undefined;
  maxAttempts: number;
  /** ISO time: `created_at`, `queued_at` and `updated_at`. */
  now: string;
}

/** A new task in the `queued` state. */
export function newQueuedTask(input: NewTaskInput): Task {
  const { spec, resolved, now } = input;
  const { plan } = resolved;
  return {
    id: input.id,
    name: spec.name,
    user: input.user,
    status: 'queued',
    priority: input.priority ?? spec.priority,
    kind: plan.kind,
    commit_id: input.commitId,
    spec,
    plan,
    plan_sha256: resolved.plan_sha256,
    repro_policy: plan.repro_policy,
    trust_level: resolved.trust_level,
    resources: plan.resources,
    labels: [...spec.labels],
    attempt: 0,
    max_attempts: input.maxAttempts,
    worker_id: null,
    exit_code: null,
    error: null,
    cancel_requested: false,
    created_at: now,
    queued_at: now,
    started_at: null,
    ended_at: null,
    updated_at: now,
  };
}
