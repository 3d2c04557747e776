/**
 * @module store/inputs
 * Validation of what callers pass to a MetadataStore, shared by every backend so that bad input is
 * refused the same way (ML_ERR_VALIDATION naming the field) whatever the datastore.
 */
import { z } from 'zod';

import { FetchmlError } from '../core/errors.ts';
import { formatIssues, IsoTime } from '../core/schemas/common.ts';
import { MAX_LIST_LIMIT } from './types.ts';

export const ListTasksQuerySchema = z.strictObject({
  status: z.array(z.enum(['queued', 'running', 'completed', 'failed', 'cancelled'])).optional(),
  user: z.string().optional(),
  name: z.string().optional(),
  limit: z.number().int().min(1).max(MAX_LIST_LIMIT),
  beforeId: z.string().optional(),
});

export const MarkRunningSchema = z.strictObject({
  worker_id: z.string().min(1),
  attempt: z.number().int().min(1),
  started_at: IsoTime,
});

export const MarkQueuedSchema = z.strictObject({
  attempt: z.number().int().min(0),
  at: IsoTime.optional(),
});

export const FinishTaskSchema = z.strictObject({
  status: z.enum(['completed', 'failed', 'cancelled']),
  exit_code: z.number().int().nullable(),
  error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
  ended_at: IsoTime,
});

/** Parses `value` with `schema`, or throws ML_ERR_VALIDATION listing `label.field: reason`. */
export function parseInput<S extends z.ZodType>(
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
