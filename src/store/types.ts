/**
 * @module store/types
 * MetadataStore: the durable record of commits, tasks, workers and datasets. The server owns it;
 * workers report through the server. Implementations: sqlite/ (embedded) and, later, postgres/. The
 * contract below is checked by test/conformance/store.suite.ts on every backend, so it is written
 * without any datastore type.
 *
 * Contract:
 * - Methods are async even where the backend is synchronous, so a network backend fits the same
 *   interface.
 * - Every task transition is one conditional write: it happens only from the states listed on the
 *   method, otherwise ML_ERR_TASK_STATE (task exists) or ML_ERR_TASK_NOT_FOUND (it does not). A
 *   transition returns the task as stored afterwards.
 * - Rows read back are validated; a row that fails validation is ML_ERR_STORE_CORRUPT naming the
 *   task id (or commit id), never a half-typed object.
 * - The task list is ordered newest first (`created_at` descending, then id descending) and pages
 *   with a cursor (`beforeId`), so pages are stable while new tasks arrive.
 */
import type { Resources } from '../core/schemas/common.ts';
import type { DatasetSummary, DatasetVersion, NewDatasetVersion } from '../core/schemas/dataset.ts';
import type { Task, TaskStatus } from '../core/schemas/task.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';
import type { WorkerRecord } from './worker-record.ts';

export type { WorkerRecord, WorkerStatus } from './worker-record.ts';

/** Filters and page of {@link MetadataStore.listTasks}. All filters combine with AND. */
export interface ListTasksQuery {
  /** Only tasks in one of these statuses (omitted or empty: any status). */
  status?: readonly TaskStatus[];
  /** Only tasks submitted by this user. */
  user?: string;
  /** Only tasks of this experiment name (exact match). */
  name?: string;
  /** Page size, 1 to {@link MAX_LIST_LIMIT}. */
  limit: number;
  /** Cursor: only tasks older than this one (the last id of the previous page). */
  beforeId?: string;
}

/** The largest page {@link MetadataStore.listTasks} returns. */
export const MAX_LIST_LIMIT = 1000;

/** A worker claimed the task: {@link MetadataStore.markTaskRunning}. */
export interface MarkRunning {
  worker_id: string;
  /** The queue's attempt number for this claim (1 for the first claim). */
  attempt: number;
  /** ISO-8601 time the worker started it. */
  started_at: string;
}

/** The task went back to the queue: {@link MetadataStore.markTaskQueued}. */
export interface MarkQueued {
  /** The queue's attempt counter after the requeue (attempts used so far). */
  attempt: number;
  /** ISO-8601 time of the requeue (default: the store's clock). */
  at?: string;
}

/** The task ended: {@link MetadataStore.finishTask}. */
export interface FinishTask {
  status: 'completed' | 'failed' | 'cancelled';
  /** Exit code of the run's process, when it ran. */
  exit_code: number | null;
  /** Why it failed or was cancelled (null when completed). */
  error: { code: string; message: string } | null;
  /** ISO-8601 end time. */
  ended_at: string;
}

/** What a worker reports about itself: {@link MetadataStore.upsertWorker}. */
export type WorkerInput = WorkerRecord;

export interface MetadataStore {
  /**
   * Brings the schema up to date: applies each pending numbered migration in its own transaction.
   * Idempotent and safe to run from two processes at once. Call before anything else.
   */
  migrate(): Promise<void>;
  /** Releases the connection. Idempotent; later calls fail with ML_ERR_UNAVAILABLE. */
  close(): Promise<void>;

  /**
   * Records a commit's tree manifest. `commitId` must be the canonical sha256 of `manifest`
   * (ML_ERR_VALIDATION otherwise). Idempotent: storing an existing commit is a no-op.
   */
  putCommit(commitId: string, manifest: TreeManifest): Promise<void>;
  /** The manifest of a commit, or null when unknown. */
  getCommit(commitId: string): Promise<TreeManifest | null>;
  hasCommit(commitId: string): Promise<boolean>;
  /**
   * The sum of the file sizes of every stored commit (project snapshots and dataset trees), each
   * counted in full: the logical size that deduplication stores once. Cheap (no manifest is read).
   */
  commitBytes(): Promise<number>;

  /**
   * Inserts a new task, validated against the Task schema (ML_ERR_VALIDATION). Its commit must be
   * stored already (ML_ERR_COMMIT_NOT_FOUND); an existing id is ML_ERR_CONFLICT.
   */
  createTask(task: Task): Promise<void>;
  /** The task, or null when unknown. */
  getTask(id: string): Promise<Task | null>;
  /**
   * The task as JSON text (validated like {@link getTask}), or null when unknown: what the API
   * sends for `GET /v1/tasks/:id` without parsing and re-serialising the document.
   */
  getTaskJson(id: string): Promise<string | null>;
  /** Tasks newest first; see {@link ListTasksQuery}. An unknown `beforeId` is ML_ERR_VALIDATION. */
  listTasks(query: ListTasksQuery): Promise<Task[]>;
  /** How many tasks are in each status (every status present, zero when none). */
  countTasksByStatus(): Promise<Record<TaskStatus, number>>;
  /**
   * queued → running (sets worker_id, attempt, started_at). Also allowed from running when
   * `attempt` is greater than the stored one: a newer claim supersedes a stale attempt whose requeue
   * was never recorded.
   */
  markTaskRunning(id: string, update: MarkRunning): Promise<Task>;
  /** running|queued → queued after an expired lease or a release; clears worker_id and started_at. */
  markTaskQueued(id: string, update: MarkQueued): Promise<Task>;
  /** queued|running → completed|failed|cancelled, with exit code, error and end time. */
  finishTask(id: string, update: FinishTask): Promise<Task>;
  /** queued|running: sets `cancel_requested`. Idempotent while the task is not finished. */
  setCancelRequested(id: string): Promise<Task>;
  /** queued only: records a new priority (an integer; the queue holds the order). */
  setTaskPriority(id: string, priority: number): Promise<Task>;

  /** Inserts or replaces a worker's self-description (keyed by id). */
  upsertWorker(worker: WorkerInput): Promise<void>;
  /** Every known worker, ordered by id. */
  listWorkers(): Promise<WorkerRecord[]>;

  /**
   * Records a version of dataset `input.name` whose files are the commit `input.tree_id` (stored
   * already: ML_ERR_COMMIT_NOT_FOUND otherwise). Atomic: the version number is one more than the
   * name's latest; when the name already has a version with this checksum, that version is
   * returned and nothing is written (`created: false`). Invalid input is ML_ERR_VALIDATION.
   */
  addDatasetVersion(
    input: NewDatasetVersion,
  ): Promise<{ dataset: DatasetVersion; created: boolean }>;
  /** One version of a dataset (`version` omitted: the latest), or null when there is none. */
  getDatasetVersion(name: string, version?: number): Promise<DatasetVersion | null>;
  /** The version of `name` whose checksum is `checksum` (`sha256:<hex>`), or null. */
  findDatasetVersion(name: string, checksum: string): Promise<DatasetVersion | null>;
  /** Every version of `name`, newest first (empty when the name is unknown). */
  listDatasetVersions(name: string): Promise<DatasetVersion[]>;
  /** The latest version of every dataset with its version count, ordered by name. */
  listDatasets(): Promise<DatasetSummary[]>;
}

export type { Resources, Task, TaskStatus, TreeManifest };
