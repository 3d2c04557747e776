/**
 * @module store/worker-record
 * The record a worker keeps in the metadata store: who it is, where it runs, what it offers and when
 * it was last seen. A schema (not only a type) because rows are validated when read back.
 */
import { z } from 'zod';

import { IsoTime, Resources } from '../core/schemas/common.ts';

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
});
export type WorkerRecord = z.infer<typeof WorkerRecord>;
