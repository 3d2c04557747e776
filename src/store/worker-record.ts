/**
 * @module store/worker-record
 * The record a worker keeps in the metadata store: who it is, where it runs, what it offers and when
 * it was last seen, and what it is doing (phase, the attempts it holds, prewarm). A schema (not only
 * a type) because rows are validated when read back. The fields after `status` are optional so
 * records written by older workers still read back; status shows their absence as unknown.
 */
import { z } from 'zod';

import { IsoTime, Resources } from '../core/schemas/common.ts';
import { PrewarmState, WorkerPhase, WorkerTask } from '../core/schemas/status.ts';

/** online: claiming work; draining: finishing what it has, claiming nothing; offline: gone. */
export const WorkerStatus = z.enum(['online', 'draining', 'offline']);
export type WorkerStatus = z.infer<typeof WorkerStatus>;

export const WorkerRecord = z.strictObject({
  id: z.string().min(1),
  host: z.string(),
  /** The container runtime it uses: podman, docker, sandbox, process. */
  runtime: z.string(),
  /** What it offers in total (not what is free right now). */
  resources: Resources,
  labels: z.array(z.string()),
  /** fetchml version of the worker. */
  version: z.string(),
  /** ISO-8601 time of its last heartbeat. */
  last_seen_at: IsoTime,
  status: WorkerStatus,
  /**
   * Container workers: images of queued tasks it checked and does not have, so it claims none of
   * those tasks (worker/images.ts); status shows a task every live worker lacks the image of as
   * waiting for it (core/image-wait.ts).
   */
  images_missing: z.array(z.string()).optional(),
  /** What it does now (core/schemas/status glossary). */
  phase: WorkerPhase.optional(),
  /** The attempts it holds and where each is. */
  tasks: z.array(WorkerTask).optional(),
  /** Its prewarm state; null when not prewarming. */
  prewarm: PrewarmState.nullable().optional(),
  /** How often it refreshes this record, ms: how the server judges it silent. */
  heartbeat_ms: z.number().int().positive().optional(),
  /** Tasks it runs at once at most. */
  concurrency: z.number().int().min(1).optional(),
});
export type WorkerRecord = z.infer<typeof WorkerRecord>;
