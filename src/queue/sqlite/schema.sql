-- GENERATED FILE, DO NOT EDIT: the schema after every migration, as sqlite_master has it.
-- Migrations applied: 2 (table queue_migrations).
-- Regenerate: ML_UPDATE_SCHEMA=1 npx vitest run src/queue/sqlite/schema.test.ts

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
      , image TEXT) STRICT;

CREATE TABLE queue_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT;

CREATE INDEX queue_jobs_leases ON queue_jobs (lease_expires_at) WHERE state = 'leased';

CREATE INDEX queue_jobs_ready ON queue_jobs (priority DESC, seq) WHERE state = 'queued';

CREATE INDEX queue_jobs_state ON queue_jobs (state);
