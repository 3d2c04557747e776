/**
 * @module store/sqlite/store
 * The embedded MetadataStore: one SQLite file (WAL), shared by the server and the workers' processes.
 * better-sqlite3 is synchronous; each method does its work synchronously and settles a promise, so
 * the interface stays the one a network backend (PostgreSQL) implements.
 */
import type { z } from 'zod';

import { FetchmlError } from '../../core/errors.ts';
import { canonicalJson, canonicalSha256 } from '../../core/hash.ts';
import { formatIssues, parseInput } from '../../core/schemas/common.ts';
import { NewDatasetVersion } from '../../core/schemas/dataset.ts';
import type { DatasetSummary, DatasetVersion } from '../../core/schemas/dataset.ts';
import { Task, TASK_STATUSES } from '../../core/schemas/task.ts';
import type { TaskStatus } from '../../core/schemas/task.ts';
import { TreeManifest } from '../../core/schemas/tree.ts';
import {
  FinishTaskSchema,
  ListTasksQuerySchema,
  MarkQueuedSchema,
  MarkRunningSchema,
  PrioritySchema,
} from '../inputs.ts';
import type {
  FinishTask,
  ListTasksQuery,
  MarkQueued,
  MarkRunning,
  MetadataStore,
} from '../types.ts';
import { WorkerRecord } from '../worker-record.ts';
import { applyMigrations, isConstraintError, openSqliteDatabase, settle } from './connection.ts';
import type { SqliteConnectionOptions, SqliteDatabase } from './connection.ts';
import {
  insertDatasetVersion,
  selectDatasetByChecksum,
  selectDatasets,
  selectDatasetVersion,
  selectDatasetVersions,
} from './dataset-sql.ts';
import { STORE_MIGRATIONS, STORE_MIGRATIONS_TABLE } from './migrations.ts';
import {
  countByStatus,
  insertTask,
  selectTask,
  selectTaskJson,
  selectTasks,
  updateCancelRequested,
  updateFinished,
  updatePriority,
  updateQueued,
  updateRunning,
} from './task-sql.ts';

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions extends SqliteConnectionOptions {
  /**
   * Clock for times the caller does not pass (`updated_at` of a cancel request, migration times).
   * @default Date.now
   */
  now?: () => number;
}

/**
 * Opens (creating when absent) the SQLite metadata store at `options.path`. It does not migrate:
 * call {@link MetadataStore.migrate} first (`fetchml migrate`, or `fetchml up` on start).
 */
export function openSqliteStore(options: SqliteStoreOptions): Promise<MetadataStore> {
  return settle('open store', () => new SqliteMetadataStore(openSqliteDatabase(options), options));
}

class SqliteMetadataStore implements MetadataStore {
  readonly #db: SqliteDatabase;
  readonly #now: () => number;
  #closed = false;

  constructor(db: SqliteDatabase, options: SqliteStoreOptions) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
  }

  #run<T>(what: string, work: (db: SqliteDatabase) => T): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new FetchmlError('ML_ERR_UNAVAILABLE', `${what}: store is closed`));
    }
    return settle(what, () => work(this.#db));
  }

  #isoNow(): string {
    return new Date(this.#now()).toISOString();
  }

  migrate(): Promise<void> {
    return this.#run('migrate store', (db) => {
      applyMigrations(db, STORE_MIGRATIONS_TABLE, STORE_MIGRATIONS, this.#now);
    });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      return settle('close store', () => {
        this.#db.close();
      });
    }
    return Promise.resolve();
  }

  putCommit(commitId: string, manifest: TreeManifest): Promise<void> {
    return this.#run('store commit', (db) => {
      const parsed = parseInput(TreeManifest, manifest, 'manifest');
      const json = canonicalJson(parsed);
      const actual = canonicalSha256(parsed);
      if (actual !== commitId) {
        throw new FetchmlError(
          'ML_ERR_VALIDATION',
          `commitId: ${commitId} is not the sha256 of the manifest (${actual})`,
          { details: { field: 'commitId', expected: actual } },
        );
      }
      const bytes = parsed.entries.reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0);
      db.prepare(
        'INSERT INTO commits (commit_id, manifest_json, created_at, bytes) VALUES (?, ?, ?, ?) ON CONFLICT (commit_id) DO NOTHING',
      ).run(commitId, json, this.#isoNow(), bytes);
    });
  }

  getCommit(commitId: string): Promise<TreeManifest | null> {
    return this.#run('read commit', (db) => {
      const row = db
        .prepare('SELECT manifest_json FROM commits WHERE commit_id = ?')
        .get(commitId) as { manifest_json: string } | undefined;
      return row === undefined
        ? null
        : decodeStored(TreeManifest, `commit ${commitId}`, row.manifest_json);
    });
  }

  commitBytes(): Promise<number> {
    return this.#run('sum commit sizes', (db) => {
      // Covered by the commits_bytes index: the manifests are not read.
      const row = db.prepare('SELECT coalesce(sum(bytes), 0) AS n FROM commits').get() as {
        n: number;
      };
      return row.n;
    });
  }

  hasCommit(commitId: string): Promise<boolean> {
    return this.#run('read commit', (db) => {
      return db.prepare('SELECT 1 FROM commits WHERE commit_id = ?').get(commitId) !== undefined;
    });
  }

  createTask(task: Task): Promise<void> {
    return this.#run('create task', (db) => {
      const parsed = parseInput(Task, task, 'task');
      try {
        insertTask(db, parsed);
      } catch (err) {
        if (isConstraintError(err, 'PRIMARYKEY') || isConstraintError(err, 'UNIQUE')) {
          throw new FetchmlError('ML_ERR_CONFLICT', `task ${parsed.id} already exists`, {
            cause: err,
            details: { task_id: parsed.id },
          });
        }
        if (isConstraintError(err, 'FOREIGNKEY')) {
          throw new FetchmlError(
            'ML_ERR_COMMIT_NOT_FOUND',
            `task ${parsed.id} names commit ${parsed.commit_id}, which is not stored`,
            { cause: err, details: { task_id: parsed.id, commit_id: parsed.commit_id } },
          );
        }
        throw err;
      }
    });
  }

  getTask(id: string): Promise<Task | null> {
    return this.#run('read task', (db) => selectTask(db, id));
  }

  getTaskJson(id: string): Promise<string | null> {
    return this.#run('read task', (db) => selectTaskJson(db, id));
  }

  listTasks(query: ListTasksQuery): Promise<Task[]> {
    return this.#run('list tasks', (db) => {
      return selectTasks(db, parseInput(ListTasksQuerySchema, query, 'query'));
    });
  }

  countTasksByStatus(): Promise<Record<TaskStatus, number>> {
    return this.#run('count tasks', (db) => {
      const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<
        TaskStatus,
        number
      >;
      for (const { status, n } of countByStatus(db)) counts[status] = n;
      return counts;
    });
  }

  markTaskRunning(id: string, update: MarkRunning): Promise<Task> {
    return this.#run('mark task running', (db) => {
      return updateRunning(db, id, parseInput(MarkRunningSchema, update, 'update'));
    });
  }

  markTaskQueued(id: string, update: MarkQueued): Promise<Task> {
    return this.#run('mark task queued', (db) => {
      const u = parseInput(MarkQueuedSchema, update, 'update');
      return updateQueued(db, id, u, u.at ?? this.#isoNow());
    });
  }

  finishTask(id: string, update: FinishTask): Promise<Task> {
    return this.#run('finish task', (db) => {
      return updateFinished(db, id, parseInput(FinishTaskSchema, update, 'update'));
    });
  }

  setCancelRequested(id: string): Promise<Task> {
    return this.#run('request task cancellation', (db) => {
      return updateCancelRequested(db, id, this.#isoNow());
    });
  }

  setTaskPriority(id: string, priority: number): Promise<Task> {
    return this.#run('change task priority', (db) => {
      const p = parseInput(PrioritySchema, priority, 'priority');
      return updatePriority(db, id, p, this.#isoNow());
    });
  }

  upsertWorker(worker: WorkerRecord): Promise<void> {
    return this.#run('record worker', (db) => {
      const w = parseInput(WorkerRecord, worker, 'worker');
      db.prepare(
        `INSERT INTO workers (id, status, last_seen_at, worker_json) VALUES (?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status,
           last_seen_at = excluded.last_seen_at, worker_json = excluded.worker_json`,
      ).run(w.id, w.status, w.last_seen_at, JSON.stringify(w));
    });
  }

  addDatasetVersion(
    input: NewDatasetVersion,
  ): Promise<{ dataset: DatasetVersion; created: boolean }> {
    return this.#run('record dataset version', (db) => {
      return insertDatasetVersion(db, parseInput(NewDatasetVersion, input, 'dataset'));
    });
  }

  getDatasetVersion(name: string, version?: number): Promise<DatasetVersion | null> {
    return this.#run('read dataset', (db) => selectDatasetVersion(db, name, version));
  }

  findDatasetVersion(name: string, checksum: string): Promise<DatasetVersion | null> {
    return this.#run('read dataset', (db) => selectDatasetByChecksum(db, name, checksum));
  }

  listDatasetVersions(name: string): Promise<DatasetVersion[]> {
    return this.#run('list dataset versions', (db) => selectDatasetVersions(db, name));
  }

  listDatasets(): Promise<DatasetSummary[]> {
    return this.#run('list datasets', (db) => selectDatasets(db));
  }

  listWorkers(): Promise<WorkerRecord[]> {
    return this.#run('list workers', (db) => {
      const rows = db.prepare('SELECT id, worker_json FROM workers ORDER BY id').all() as Array<{
        id: string;
        worker_json: string;
      }>;
      return rows.map((row) => decodeStored(WorkerRecord, `worker ${row.id}`, row.worker_json));
    });
  }
}

/** JSON.parse + schema check of a stored document; failures are ML_ERR_STORE_CORRUPT. */
function decodeStored<S extends z.ZodType>(schema: S, what: string, json: string): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (cause) {
    throw new FetchmlError('ML_ERR_STORE_CORRUPT', `stored ${what} is not valid JSON`, {
      cause,
      details: { what },
    });
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = formatIssues(parsed.error);
  throw new FetchmlError(
    'ML_ERR_STORE_CORRUPT',
    `stored ${what} is corrupt: ${issues.join('; ')}`,
    {
      cause: parsed.error,
      details: { what, issues },
    },
  );
}
