/**
 * @module queue/inputs
 * The schemas of what callers pass to a JobQueue, shared by every backend so that bad input is
 * refused identically (ML_ERR_VALIDATION naming the field, via core's `parseInput`) before any
 * datastore is touched.
 */
import { z } from 'zod';

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
  image: z.string().min(1).nullable().optional(),
});

/** A priority, as `enqueue` takes it. */
export const PrioritySchema = z.number().int();

export const ClaimSchema = z.strictObject({
  worker_id: z.string().min(1),
  free: Resources.extend({ labels: z.array(z.string()) }),
  lease_ms: LeaseMs,
  images: z.array(z.string().min(1)).optional(),
});

/** How many entries `listQueued` returns at most: a positive integer. */
export const ListLimit = z.number().int().min(1);
