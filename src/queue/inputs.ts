/**
 * @module queue/inputs
 * Validation of what callers pass to a JobQueue, shared by every backend so that bad input is
 * refused identically (ML_ERR_VALIDATION naming the field) before any datastore is touched.
 */
import { z } from 'zod';

import { FetchmlError } from '../core/errors.ts';
import { formatIssues } from '../core/schemas/common.ts';

const Resources = z.strictObject({
  cpus: z.number().min(0).max(1_000_000),
  memory_mb: z.number().int().min(0),
  gpus: z.number().int().min(0),
});

/** A lease lasts from 1 ms up to one day; longer leases defeat at-least-once recovery. */
export const LeaseMs = z.number().int().min(1).max(86_400_000);

export const EnqueueSchema = z.strictObject({
  task_id: z.string().min(1),
  priority: z.number().int(),
  resources: Resources,
  labels: z.array(z.string().min(1)),
  max_attempts: z.number().int().min(1),
});

export const ClaimSchema = z.strictObject({
  worker_id: z.string().min(1),
  free: Resources.extend({ labels: z.array(z.string()) }),
  lease_ms: LeaseMs,
});

/** Parses `value` with `schema`, or throws ML_ERR_VALIDATION listing `label.field: reason`. */
export function parseQueueInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  label: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = formatIssues(parsed.error, label);
  throw new FetchmlError('ML_ERR_VALIDATION', `invalid ${label}: ${issues.join('; ')}`, {
    cause: parsed.error,
    details: { field: label, issues },
  });
}
