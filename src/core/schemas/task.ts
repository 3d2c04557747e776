/**
 * @module core/schemas/task
 * Task (one queued run of an experiment) and Plan (what exactly it will run).
 *
 * Glossary:
 * - commit: a snapshot of a working tree, named by the sha256 of its tree manifest.
 * - plan: the resolved, explicit description of a run; `plan_sha256` is its canonical digest.
 * - task: a plan submitted to the queue, with priority, status and lifecycle times.
 * - attempt: how many times a worker has claimed the task (an expired lease adds one).
 */
import { z } from 'zod';

import { Checksum, IsoTime, Resources, Sha256Hex } from './common.ts';
import { ExperimentSpec } from './spec.ts';

export const TASK_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export const TaskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatus>;
export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

/** `strict` blocks a submission whose preflight fails; `relaxed` records a lower trust level. */
export const ReproPolicy = z.enum(['strict', 'relaxed']);
/** The trust ladder, lowest first. */
export const TRUST_LEVELS = ['unverified', 'pinned', 'verified'] as const;
export const TrustLevel = z.enum(TRUST_LEVELS);

export const Plan = z.strictObject({
  commit_id: Sha256Hex,
  /** sha256 of the canonical experiment spec. */
  experiment_manifest_sha256: Sha256Hex,
  deps: z.strictObject({ name: z.string(), sha256: Sha256Hex }).nullable(),
  snapshot_id: Sha256Hex,
  datasets: z.array(z.strictObject({ name: z.string(), checksum: Checksum.nullable() })),
  resources: Resources,
  image: z.strictObject({ base: z.string().nullable(), warmed_tag: z.string().nullable() }),
  command: z.array(z.string()).min(1),
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  network: z.enum(['none', 'bridge']),
  timeout_s: z.number().positive().nullable(),
  kind: z.enum(['batch', 'service']),
  repro_policy: ReproPolicy,
});
export type Plan = z.infer<typeof Plan>;

export const TaskError = z.strictObject({ code: z.string(), message: z.string() });

export const Task = z.strictObject({
  id: z.string(),
  name: z.string(),
  user: z.string(),
  status: TaskStatus,
  priority: z.number().int(),
  kind: z.enum(['batch', 'service']),
  commit_id: Sha256Hex,
  spec: ExperimentSpec,
  plan: Plan,
  plan_sha256: Sha256Hex,
  repro_policy: ReproPolicy,
  trust_level: TrustLevel,
  resources: Resources,
  labels: z.array(z.string()),
  attempt: z.number().int().min(0),
  max_attempts: z.number().int().min(1),
  worker_id: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  error: TaskError.nullable(),
  cancel_requested: z.boolean(),
  created_at: IsoTime,
  queued_at: IsoTime,
  started_at: IsoTime.nullable(),
  ended_at: IsoTime.nullable(),
  updated_at: IsoTime,
});
export type Task = z.infer<typeof Task>;
