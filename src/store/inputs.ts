/**
 * @module store/inputs
 * The schemas of what callers pass to a MetadataStore, shared by every backend so that bad input
 * is refused the same way (ML_ERR_VALIDATION naming the field, via core's `parseInput`) whatever
 * the datastore.
 */
import { z } from 'zod';

import { IsoTime } from '../core/schemas/common.ts';
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

export const PrioritySchema = z.number().int();
