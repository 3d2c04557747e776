/**
 * @module core/schemas/compare
 * `GET /v1/compare?a=&b=[&diff=true]` (`ml compare A B`): two runs side by side from their run
 * manifests — code (files changed between the two commits, optionally with unified diffs of text
 * files), run settings, dependencies, datasets, image, resources, worker, environment and final
 * metrics. Every row carries both values and whether they are the same.
 */
import { z } from 'zod';

import { Sha256Hex } from './common.ts';
import { ReproPolicy, TaskStatus, TrustLevel } from './task.ts';

/** GET /v1/compare query. */
export const CompareQuery = z.strictObject({
  a: z.string().min(1),
  b: z.string().min(1),
  diff: z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .transform((v) => v === 'true' || v === '1')
    .default(false),
});
export type CompareQuery = z.input<typeof CompareQuery>;

/** Who each side is. */
export const CompareSide = z.strictObject({
  task_id: z.string(),
  name: z.string(),
  status: TaskStatus,
  commit_id: Sha256Hex,
  plan_sha256: Sha256Hex,
  repro_policy: ReproPolicy,
  trust_level: TrustLevel,
});
export type CompareSide = z.infer<typeof CompareSide>;

/** One compared value; `null` stands for "absent on this side". */
export const CompareRow = z.strictObject({
  key: z.string(),
  a: z.json(),
  b: z.json(),
  same: z.boolean(),
});
export type CompareRow = z.infer<typeof CompareRow>;

/** One final metric side by side; `delta` is b − a when both have it. */
export const MetricRow = z.strictObject({
  key: z.string(),
  a: z.number().nullable(),
  b: z.number().nullable(),
  delta: z.number().nullable(),
  same: z.boolean(),
});
export type MetricRow = z.infer<typeof MetricRow>;

/**
 * A file that differs between the two commits. `diff` (with `?diff=true`): the unified diff of a
 * text file; null with `note` saying why there is none (binary, too large, too many changes, a
 * symlink, the diff budget spent).
 */
export const FileChange = z.strictObject({
  path: z.string(),
  change: z.enum(['added', 'removed', 'modified']),
  diff: z.string().nullable().optional(),
  note: z.string().optional(),
});
export type FileChange = z.infer<typeof FileChange>;

export const COMPARE_SECTIONS = [
  'run',
  'dependencies',
  'datasets',
  'image',
  'resources',
  'worker',
  'environment',
] as const;

export const CompareResponse = z.strictObject({
  a: CompareSide,
  b: CompareSide,
  /** Whether both ran the very same plan (equal plan_sha256). */
  same_plan: z.boolean(),
  code: z.strictObject({
    same: z.boolean(),
    /** Files present and equal in both. */
    unchanged: z.number().int().min(0),
    files: z.array(FileChange),
  }),
  sections: z.strictObject(
    Object.fromEntries(COMPARE_SECTIONS.map((s) => [s, z.array(CompareRow)])) as Record<
      (typeof COMPARE_SECTIONS)[number],
      z.ZodArray<typeof CompareRow>
    >,
  ),
  metrics: z.array(MetricRow),
});
export type CompareResponse = z.infer<typeof CompareResponse>;
