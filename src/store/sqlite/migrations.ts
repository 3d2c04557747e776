/**
 * @module store/sqlite/migrations
 * The metadata store's schema history, recorded in `schema_migrations`. A migration's version is
 * its 1-based position; the list is append-only (never edit, reorder or remove a shipped entry).
 * After changing it, regenerate the committed dump `schema.sql` (see schema.test.ts).
 *
 * Tables keep the whole object as validated JSON (`*_json`) plus the few columns queries filter or
 * sort on. The JSON is the source of truth; the columns are kept in step by every write, inside
 * the same statement.
 */
import type { SqliteMigration } from './connection.ts';

/** Name of the table that records which store migrations ran. */
export const STORE_MIGRATIONS_TABLE = 'schema_migrations';

/** Tables owned by the store (the schema dump includes only these and their indexes). */
export const STORE_TABLES: readonly string[] = [
  STORE_MIGRATIONS_TABLE,
  'commits',
  'tasks',
  'workers',
  'datasets',
];

export const STORE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    name: 'commits, tasks, workers',
    sql: `
      CREATE TABLE commits (
        commit_id TEXT PRIMARY KEY,
        manifest_json TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;

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
      CREATE INDEX tasks_created ON tasks (created_at DESC, id DESC);
      CREATE INDEX tasks_status_created ON tasks (status, created_at DESC, id DESC);
      CREATE INDEX tasks_user_created ON tasks (user, created_at DESC, id DESC);
      CREATE INDEX tasks_name_created ON tasks (name, created_at DESC, id DESC);
      CREATE INDEX tasks_priority ON tasks (priority);
      CREATE INDEX tasks_commit ON tasks (commit_id);

      CREATE TABLE workers (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        worker_json TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    name: 'dataset catalog',
    sql: `
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
      CREATE INDEX datasets_tree ON datasets (tree_id);
    `,
  },
  {
    // The sum of a commit's file sizes, so the logical size of every snapshot (metrics: dedup
    // ratio) is an index-only aggregate instead of a parse of every manifest. Backfilled here.
    name: 'commit bytes',
    sql: `
      ALTER TABLE commits ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
      UPDATE commits SET bytes = coalesce((
        SELECT sum(json_extract(e.value, '$.size')) FROM json_each(manifest_json, '$.entries') AS e
        WHERE json_extract(e.value, '$.type') = 'file'), 0);
      CREATE INDEX commits_bytes ON commits (bytes);
    `,
  },
];
