/**
 * @module queue
 * The job queue: its interface and the backends that implement it. Callers depend on
 * {@link JobQueue}; only the composition root (ops) picks a backend.
 */
export type {
  CancelResult,
  Claim,
  ClaimInput,
  EnqueueInput,
  FailResult,
  HeartbeatResult,
  JobQueue,
  JobResources,
  QueueCapabilities,
  QueueEntry,
  QueueState,
  ReapedEntry,
} from './types.ts';
export { QUEUE_STATES } from './types.ts';
export { openSqliteQueue } from './sqlite/queue.ts';
export type { SqliteQueueOptions } from './sqlite/queue.ts';
