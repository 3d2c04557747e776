/**
 * @module core/schemas/manifest
 * `run_manifest.json`: the verifiable provenance record of one task, written by the worker into
 * `data/experiments/<task-id>/`. Schema-versioned; lifecycle completeness is checked by
 * {@link lifecycleProblems} (used by `ml validate --task`).
 */
import { z } from 'zod';

import { Checksum, IsoTime, RelativePath, Resources, Sha256Hex } from './common.ts';
import { Plan, ReproPolicy, TaskStatus, TrustLevel } from './task.ts';

export const RUN_MANIFEST_SCHEMA_VERSION = 1;

export const Artifact = z.strictObject({
  path: RelativePath,
  size: z.number().int().min(0),
  sha256: Sha256Hex,
});
export type Artifact = z.infer<typeof Artifact>;

export const RunManifest = z.strictObject({
  schema_version: z.literal(RUN_MANIFEST_SCHEMA_VERSION),
  task_id: z.string(),
  name: z.string(),
  user: z.string(),
  status: TaskStatus,
  attempt: z.number().int().min(1),
  plan: Plan,
  plan_sha256: Sha256Hex,
  repro_policy: ReproPolicy,
  trust_level: TrustLevel,
  commit_id: Sha256Hex,
  experiment_manifest_sha256: Sha256Hex,
  deps_manifest: z.strictObject({ name: z.string(), sha256: Sha256Hex }).nullable(),
  datasets: z.array(
    z.strictObject({ name: z.string(), checksum: Checksum.nullable(), verified: z.boolean() }),
  ),
  image: z.strictObject({ reference: z.string().nullable(), digest: z.string().nullable() }),
  resources: z.strictObject({
    requested: Resources,
    assigned: z.strictObject({
      cpus: z.number(),
      memory_mb: z.number().int(),
      gpu_indices: z.array(z.number().int().min(0)),
    }),
  }),
  worker: z.strictObject({
    id: z.string(),
    host: z.string(),
    runtime: z.string(),
    version: z.string(),
  }),
  /** Isolation warnings, e.g. the `process` runtime runs without any sandbox. */
  warnings: z.array(z.string()),
  lifecycle: z.strictObject({
    queued_at: IsoTime,
    started_at: IsoTime.nullable(),
    ended_at: IsoTime.nullable(),
    exit_code: z.number().int().nullable(),
  }),
  /** Why a failed or cancelled run ended (`ML_ERR_TASK_TIMEOUT`, `ML_ERR_TASK_OOM`, ...); else null. */
  error: z.strictObject({ code: z.string(), message: z.string() }).nullable().default(null),
  artifacts: z.array(Artifact),
  metrics: z.record(z.string(), z.unknown()),
  /** The task's environment with secrets redacted and host paths sanitized. */
  environment: z.record(z.string(), z.string()),
});
export type RunManifest = z.infer<typeof RunManifest>;

/** Lifecycle fields a manifest in `status` must have but lacks (empty when complete). */
export function lifecycleProblems(m: RunManifest): string[] {
  const problems: string[] = [];
  const l = m.lifecycle;
  if (m.status === 'running' && !l.started_at)
    problems.push('running but lifecycle.started_at is missing');
  if (m.status === 'completed' || m.status === 'failed') {
    if (!l.started_at) problems.push(`${m.status} but lifecycle.started_at is missing`);
    if (!l.ended_at) problems.push(`${m.status} but lifecycle.ended_at is missing`);
    if (l.exit_code === null) problems.push(`${m.status} but lifecycle.exit_code is missing`);
  }
  if (m.datasets.length > 0 && m.datasets.some((d) => d.checksum === null)) {
    problems.push('a dataset has no checksum');
  }
  return problems;
}
