/**
 * @module queue/types
 * JobQueue: who runs what next. The queue holds one entry per task while it waits, runs and after it
 * ends; the metadata store keeps the task's full record. Implementations: sqlite/ (embedded) and,
 * later, redis/. test/conformance/queue.suite.ts checks this contract on every backend.
 *
 * Glossary:
 * - entry: the queue's record of one task (keyed by task id): state, priority, resources, labels,
 *   attempt counter and the current lease.
 * - state: queued (waiting) → leased (a worker holds it) → completed | failed | cancelled | dead.
 *   A leased entry returns to queued after an expired lease, a retryable failure or a release.
 * - claim: a worker asks for the best queued entry that fits its free resources; the highest
 *   priority first, then FIFO (enqueue order) within a priority. Entries that do not fit are skipped,
 *   so a big job never blocks smaller ones behind it (it may wait while smaller ones keep fitting:
 *   there is no reservation).
 * - fits: job cpus ≤ free cpus, memory ≤ free memory, gpus ≤ free gpus, every job label is one
 *   of the worker's labels, and — when the claim lists `images` — the job names no image or one of
 *   those images.
 * - image: the container image the job runs in (null: none). A container worker lists the images
 *   it has verified present on its host ({@link JobQueue.queuedImages} tells it which to check), so
 *   it never claims a job it cannot start: a job whose image no worker has stays queued, unclaimed
 *   (attempt 0), instead of failing on the first worker that picks it up.
 * - lease: the right to run a claimed entry, named by a fresh `lease_id` and valid until
 *   `lease_expires_at` (ms since the epoch, by the queue's clock). A heartbeat renews it.
 * - valid lease: the entry is leased, the lease id is the current one, and it has not expired. Every
 *   call that names a lease (heartbeat, complete, fail, release, finishCancelled) needs a valid one,
 *   else ML_ERR_LEASE_LOST. An expired lease is lost even before the reaper sees it: the reaper may
 *   give the job to another worker at any moment, so success must not depend on its timing.
 * - fencing: because of the rule above, a stale worker (expired, or superseded by a newer claim)
 *   can never complete, fail or requeue an attempt that is not its own.
 * - attempt: how many claims the entry has had. Claim adds one; an expired lease or a retryable
 *   failure keeps it (the next claim adds one); release gives one back (attempt − 1), because a
 *   graceful shutdown is not the job's fault.
 * - max_attempts: once an expired lease or a retryable failure happens at attempt ≥ max_attempts,
 *   the entry is terminal (dead after an expiry, failed after a failure) instead of requeued.
 * - reap: turning expired leases back into queued entries (or dead ones). Someone must call
 *   {@link JobQueue.reapExpired} periodically (the server does); claim does not reap.
 * - cancel: a queued entry becomes cancelled at once; a leased one gets `cancel_requested`, which
 *   the worker sees in its next heartbeat; it stops the run and calls finishCancelled. A leased entry
 *   with cancel requested is never requeued: its expiry makes it cancelled, a failure makes it failed.
 *
 * At-least-once: an entry leaves the queue only through a terminal state; a job whose worker died
 * is re-run after its lease expires.
 */

/** States of a queue entry; see the glossary. */
export const QUEUE_STATES = [
  'queued',
  'leased',
  'completed',
  'failed',
  'cancelled',
  'dead',
] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** What a job needs. */
export interface JobResources {
  cpus: number;
  memory_mb: number;
  gpus: number;
}

export interface EnqueueInput {
  task_id: string;
  /** Higher runs first. */
  priority: number;
  resources: JobResources;
  /** Every label must be offered by the worker that claims it. */
  labels: readonly string[];
  /** How many claims the job may use, at least 1. */
  max_attempts: number;
  /** The container image the job runs in (the plan's `image.base`); null or omitted: none. */
  image?: string | null;
}

export interface ClaimInput {
  worker_id: string;
  /** What the worker has free right now, and its labels. */
  free: JobResources & { labels: readonly string[] };
  /** Lease length in ms. */
  lease_ms: number;
  /**
   * The images this worker can start (verified present on its host). When given, a job that names
   * an image is claimed only if its image is in this list; jobs without an image are unaffected.
   * Omitted: any image (a worker whose runtime ignores images).
   */
  images?: readonly string[];
}

export interface Claim {
  task_id: string;
  lease_id: string;
  /** 1 for the first claim. */
  attempt: number;
  /** ms since the epoch, by the queue's clock. */
  lease_expires_at: number;
}

export interface HeartbeatResult {
  lease_expires_at: number;
  /** The task should stop: stop the run, then call finishCancelled. */
  cancel_requested: boolean;
}

export interface FailResult {
  /** queued: it will run again; failed: terminal. */
  state: 'queued' | 'failed';
  attempt: number;
}

export type CancelResult = 'removed' | 'signalled' | 'already_finished';

export interface ReapedEntry {
  task_id: string;
  /** requeued: back in the queue; dead: out of attempts; cancelled: cancel was requested. */
  outcome: 'requeued' | 'dead' | 'cancelled';
  attempt: number;
}

/** A queue entry as {@link JobQueue.get} returns it. Times are ms since the epoch. */
export interface QueueEntry {
  task_id: string;
  state: QueueState;
  priority: number;
  resources: JobResources;
  labels: string[];
  image: string | null;
  attempt: number;
  max_attempts: number;
  lease_id: string | null;
  lease_expires_at: number | null;
  worker_id: string | null;
  cancel_requested: boolean;
  enqueued_at: number;
  updated_at: number;
  /** When it reached a terminal state. */
  finished_at: number | null;
}

/** Backend-only behaviour, declared rather than silently different. */
export interface QueueCapabilities {
  /** claim can block until a job arrives (otherwise callers poll). */
  blockingClaim: boolean;
  /** The backend can notify other processes of new jobs (otherwise callers poll). */
  pubsub: boolean;
  /** Several processes may share the queue. */
  multiProcess: boolean;
}

export interface JobQueue {
  readonly capabilities: QueueCapabilities;
  /** Adds a queued entry. An existing task id, in any state, is ML_ERR_CONFLICT. */
  enqueue(input: EnqueueInput): Promise<void>;
  /** Leases the best fitting queued entry, or null when none fits. */
  claim(input: ClaimInput): Promise<Claim | null>;
  /** Renews a valid lease for `lease_ms` from now. */
  heartbeat(taskId: string, leaseId: string, leaseMs: number): Promise<HeartbeatResult>;
  /** leased → completed. */
  complete(taskId: string, leaseId: string): Promise<void>;
  /** leased → queued when `retry`, attempts are left and no cancel was requested; else failed. */
  fail(taskId: string, leaseId: string, options: { retry: boolean }): Promise<FailResult>;
  /** leased → queued with attempt − 1 (graceful worker shutdown). */
  release(taskId: string, leaseId: string): Promise<void>;
  /** leased → cancelled: the worker stopped the run after a cancel request. */
  finishCancelled(taskId: string, leaseId: string): Promise<void>;
  /** Cancels a task; unknown task is ML_ERR_TASK_NOT_FOUND. */
  cancel(taskId: string): Promise<CancelResult>;
  /**
   * Changes the priority of a queued entry in one atomic step; returns the previous priority. The
   * entry keeps its enqueue order, so among equal priorities it stands where its enqueue time puts
   * it. A leased or finished entry is ML_ERR_TASK_STATE (nothing changes); unknown task is
   * ML_ERR_TASK_NOT_FOUND.
   */
  setPriority(taskId: string, priority: number): Promise<{ previous: number }>;
  /** Requeues (or ends) every entry whose lease expired before `now` (default: the queue's clock). */
  reapExpired(now?: number): Promise<ReapedEntry[]>;
  /** The entry of a task, or null. */
  get(taskId: string): Promise<QueueEntry | null>;
  /**
   * Queued entries in claim order (highest priority first, then enqueue order): position `i` is
   * the `i + 1`-th a worker with room for all of them would claim. At most `limit` (default: all).
   */
  listQueued(limit?: number): Promise<QueueEntry[]>;
  /** The distinct images named by queued entries, sorted: what a container worker checks before it claims. */
  queuedImages(): Promise<string[]>;
  /** Entries per state (every state present). */
  counts(): Promise<Record<QueueState, number>>;
  /** Releases connections. Idempotent; later calls fail with ML_ERR_UNAVAILABLE. */
  close(): Promise<void>;
}
