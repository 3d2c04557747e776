/**
 * @module queue/sqlite/migrations
 * The SQLite queue's schema history. The queue may share its file with the metadata store, so it
 * keeps its own tables (`queue_*`) and its own migrations table, `queue_migrations`, applied by the
 * store's migration runner (store/sqlite/connection.ts). A version is the 1-based position in the
 * list; the list is append-only. After changing it, regenerate `schema.sql` (see schema.test.ts).
 *
 * Invariant kept by every statement in sql/: `lease_id`, `lease_expires_at` and `worker_id` are
 * non-null exactly when `state = 'leased'`.
 */
import type { SqliteMigration } from '../../store/sqlite/connection.ts';

export const QUEUE_MIGRATIONS_TABLE = 'queue_migrations';

/** Tables owned by the queue (the schema dump includes only these and their indexes). */
export const QUEUE_TABLES: readonly string[] = [QUEUE_MIGRATIONS_TABLE, 'queue_jobs'];

export const QUEUE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    name: 'queue_jobs',
    sql: `
      CREATE TABLE queue_jobs (
        -- Enqueue order: FIFO within a priority. AUTOINCREMENT so a number is never reused.
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL
          CHECK (state IN ('queued', 'leased', 'completed', 'failed', 'cancelled', 'dead')),
        priority INTEGER NOT NULL,
        cpus REAL NOT NULL,
        memory_mb INTEGER NOT NULL,
        gpus INTEGER NOT NULL,
        -- JSON array of strings; every one must be among the claiming worker's labels.
        labels_json TEXT NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
        lease_id TEXT,
        -- Times are ms since the epoch, by the queue's clock.
        lease_expires_at INTEGER,
        worker_id TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
        enqueued_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER
      ) STRICT;
      -- claim: the best queued entry, highest priority first, then oldest.
      CREATE INDEX queue_jobs_ready ON queue_jobs (priority DESC, seq) WHERE state = 'queued';
      -- reapExpired: leases by expiry.
      CREATE INDEX queue_jobs_leases ON queue_jobs (lease_expires_at) WHERE state = 'leased';
      CREATE INDEX queue_jobs_state ON queue_jobs (state);
    `,
  },
  {
    // The container image a job runs in: container workers claim only jobs whose image they have.
    name: 'queue_jobs_image',
    sql: `ALTER TABLE queue_jobs ADD COLUMN image TEXT;`,
  },
];
