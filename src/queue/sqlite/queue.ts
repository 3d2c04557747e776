/**
 * @module queue/sqlite/queue
 * The embedded JobQueue: a `queue_jobs` table in a SQLite file (WAL), which may be the metadata
 * store's file. Every transition runs as ONE `BEGIN IMMEDIATE` transaction (better-sqlite3
 * `db.transaction(fn).immediate()`): the write lock is taken before the first read, so two
 * connections or processes never interleave inside a transition. The SQL lives in sql/, one module
 * per kind of transition. Time comes from an injected clock so tests advance it without sleeping.
 *
 * Opening the queue applies its migrations (idempotent, own `queue_migrations` table): the queue
 * tables are internal plumbing with no operator-facing step.
 */
import { FetchmlError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { parseInput } from '../../core/schemas/common.ts';
import { applyMigrations, openSqliteDatabase, settle } from '../../store/sqlite/connection.ts';
import type { SqliteConnectionOptions, SqliteDatabase } from '../../store/sqlite/connection.ts';
import { ClaimSchema, EnqueueSchema, LeaseMs, ListLimit, PrioritySchema } from '../inputs.ts';
import type {
  CancelResult,
  Claim,
  ClaimInput,
  EnqueueInput,
  FailResult,
  HeartbeatResult,
  JobQueue,
  QueueCapabilities,
  QueueEntry,
  QueueState,
  ReapedEntry,
} from '../types.ts';
import { QUEUE_MIGRATIONS, QUEUE_MIGRATIONS_TABLE } from './migrations.ts';
import { cancelJob, reapExpiredJobs, setPriorityJob } from './sql/admin.ts';
import { claimJob } from './sql/claim.ts';
import { enqueueJob } from './sql/enqueue.ts';
import { completeJob, failJob, finishCancelledJob, heartbeatJob, releaseJob } from './sql/lease.ts';
import { countStates, selectEntry, selectQueued, selectQueuedImages } from './sql/read.ts';

/** Options of {@link openSqliteQueue}. */
export interface SqliteQueueOptions extends SqliteConnectionOptions {
  /**
   * The clock leases are measured by, in ms since the epoch. Every process sharing the file must
   * use the same time base (the wall clock in production).
   * @default Date.now
   */
  now?: () => number;
}

/** Opens (creating and migrating when needed) the SQLite queue at `options.path`. */
export function openSqliteQueue(options: SqliteQueueOptions): Promise<JobQueue> {
  return settle('open queue', () => {
    const db = openSqliteDatabase(options);
    try {
      applyMigrations(db, QUEUE_MIGRATIONS_TABLE, QUEUE_MIGRATIONS, options.now);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteJobQueue(db, options.now ?? Date.now);
  });
}

class SqliteJobQueue implements JobQueue {
  readonly capabilities: QueueCapabilities = {
    blockingClaim: false,
    pubsub: false,
    multiProcess: true,
  };
  readonly #db: SqliteDatabase;
  readonly #clock: () => number;
  #closed = false;

  constructor(db: SqliteDatabase, clock: () => number) {
    this.#db = db;
    this.#clock = clock;
  }

  #now(): number {
    return Math.floor(this.#clock());
  }

  /** Runs `work` as one BEGIN IMMEDIATE transaction and settles a promise with its result. */
  #tx<T>(what: string, work: (db: SqliteDatabase) => T): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new FetchmlError('ML_ERR_UNAVAILABLE', `${what}: queue is closed`));
    }
    return settle(what, () => this.#db.transaction(() => work(this.#db)).immediate());
  }

  enqueue(input: EnqueueInput): Promise<void> {
    return this.#tx('enqueue', (db) => {
      enqueueJob(db, parseInput(EnqueueSchema, input, 'job'), this.#now());
    });
  }

  claim(input: ClaimInput): Promise<Claim | null> {
    return this.#tx('claim', (db) => {
      const valid = parseInput(ClaimSchema, input, 'claim');
      return claimJob(db, valid, newId('lease'), this.#now());
    });
  }

  heartbeat(taskId: string, leaseId: string, leaseMs: number): Promise<HeartbeatResult> {
    return this.#tx('heartbeat', (db) => {
      const ms = parseInput(LeaseMs, leaseMs, 'lease_ms');
      return heartbeatJob(db, this.#lease(taskId, leaseId), ms);
    });
  }

  complete(taskId: string, leaseId: string): Promise<void> {
    return this.#tx('complete', (db) => completeJob(db, this.#lease(taskId, leaseId)));
  }

  fail(taskId: string, leaseId: string, options: { retry: boolean }): Promise<FailResult> {
    return this.#tx('fail', (db) => failJob(db, this.#lease(taskId, leaseId), options.retry));
  }

  release(taskId: string, leaseId: string): Promise<void> {
    return this.#tx('release', (db) => releaseJob(db, this.#lease(taskId, leaseId)));
  }

  finishCancelled(taskId: string, leaseId: string): Promise<void> {
    return this.#tx('finish cancelled', (db) =>
      finishCancelledJob(db, this.#lease(taskId, leaseId)),
    );
  }

  cancel(taskId: string): Promise<CancelResult> {
    return this.#tx('cancel', (db) => cancelJob(db, taskId, this.#now()));
  }

  setPriority(taskId: string, priority: number): Promise<{ previous: number }> {
    return this.#tx('set priority', (db) =>
      setPriorityJob(db, taskId, parseInput(PrioritySchema, priority, 'priority'), this.#now()),
    );
  }

  reapExpired(now?: number): Promise<ReapedEntry[]> {
    return this.#tx('reap expired leases', (db) =>
      reapExpiredJobs(db, now === undefined ? this.#now() : Math.floor(now)),
    );
  }

  get(taskId: string): Promise<QueueEntry | null> {
    return this.#tx('read queue entry', (db) => selectEntry(db, taskId));
  }

  listQueued(limit?: number): Promise<QueueEntry[]> {
    if (this.#closed) {
      return Promise.reject(new FetchmlError('ML_ERR_UNAVAILABLE', 'list queued: queue is closed'));
    }
    // A plain read: one SELECT sees a consistent snapshot (WAL) and takes no write lock.
    return settle('list queued', () =>
      selectQueued(this.#db, parseInput(ListLimit, limit ?? Number.MAX_SAFE_INTEGER, 'limit')),
    );
  }

  queuedImages(): Promise<string[]> {
    return this.#tx('list queued images', (db) => selectQueuedImages(db));
  }

  counts(): Promise<Record<QueueState, number>> {
    return this.#tx('count queue entries', (db) => countStates(db));
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return settle('close queue', () => {
      this.#db.close();
    });
  }

  #lease(taskId: string, leaseId: string): { task_id: string; lease_id: string; now: number } {
    return { task_id: taskId, lease_id: leaseId, now: this.#now() };
  }
}
