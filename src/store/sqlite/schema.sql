-- GENERATED FILE, DO NOT EDIT: the schema after every migration, as sqlite_master has it.
-- Migrations applied: 3 (table schema_migrations).
-- Regenerate: ML_UPDATE_SCHEMA=1 npx vitest run src/store/sqlite/schema.test.ts

CREATE TABLE commits (
        commit_id TEXT PRIMARY KEY,
        manifest_json TEXT NOT NULL,
        created_at TEXT NOT NULL
      , bytes INTEGER NOT NULL DEFAULT 0) STRICT;

CREATE TABLE datasets (
        name TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        -- 'sha256:' || tree_id: what fetchml.yaml pins.
        checksum TEXT NOT NULL,
        tree_id TEXT NOT NULL REFERENCES commits (commit_id),
        created_at TEXT NOT NULL,
        dataset_json TEXT NOT NULL,
        PRIMARY KEY (name, version),
        UNIQUE (name, checksum)
      ) STRICT;

CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT;

CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL
          CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
        user TEXT NOT NULL,
        name TEXT NOT NULL,
        priority INTEGER NOT NULL,
        -- UTC ISO-8601 with milliseconds, so text order is time order.
        created_at TEXT NOT NULL,
        commit_id TEXT NOT NULL REFERENCES commits (commit_id),
        task_json TEXT NOT NULL
      ) STRICT;

CREATE TABLE workers (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        worker_json TEXT NOT NULL
      ) STRICT;

CREATE INDEX commits_bytes ON commits (bytes);

CREATE INDEX datasets_tree ON datasets (tree_id);

CREATE INDEX tasks_commit ON tasks (commit_id);

CREATE INDEX tasks_created ON tasks (created_at DESC, id DESC);

CREATE INDEX tasks_name_created ON tasks (name, created_at DESC, id DESC);

CREATE INDEX tasks_priority ON tasks (priority);

CREATE INDEX tasks_status_created ON tasks (status, created_at DESC, id DESC);

CREATE INDEX tasks_user_created ON tasks (user, created_at DESC, id DESC);
