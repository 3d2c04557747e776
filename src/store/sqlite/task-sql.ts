/**
 * @module store/sqlite/task-sql
 * The SQL of task reads and transitions. Each transition is ONE conditional `UPDATE … RETURNING`
 * whose `WHERE` states the precondition, and which edits the JSON document (`json_set`) and the
 * indexed columns together — so no transition is a read-modify-write from TypeScript, and two
 * processes racing on the same task cannot both win. Only when the update matched nothing does a
 * second read find out why (unknown task, or wrong state) to pick the error.
 *
 * Integers are bound through `CAST(? AS INTEGER)`: better-sqlite3 binds every JS number as REAL,
 * which `json_set` would write as `1.0`.
 */
import type { Statement } from 'better-sqlite3';

import { FetchmlError } from '../../core/errors.ts';
import { formatIssues } from '../../core/schemas/common.ts';
import { Task } from '../../core/schemas/task.ts';
import type { TaskStatus } from '../../core/schemas/task.ts';
import type { FinishTask, ListTasksQuery, MarkQueued, MarkRunning } from '../types.ts';
import type { SqliteDatabase } from './connection.ts';

/** A row as the queries below return it. */
interface TaskRow {
  id: string;
  task_json: string;
}

/**
 * Stored task documents already validated, by task id (most recently used last). Validating a
 * task with zod costs more than reading it (`GET /v1/tasks/:id` is the hot read), and the same
 * document text always validates the same way: a row whose text equals the remembered one is not
 * validated again. Any change to the text — a transition, or corruption — is validated anew.
 */
const validatedTexts = new Map<string, string>();
const VALIDATED_MAX = 4096;

function rememberValidated(id: string, text: string): void {
  validatedTexts.delete(id);
  validatedTexts.set(id, text);
  if (validatedTexts.size > VALIDATED_MAX) {
    const oldest = validatedTexts.keys().next().value;
    if (oldest !== undefined) validatedTexts.delete(oldest);
  }
}

/** Parses and validates a stored task; anything off is ML_ERR_STORE_CORRUPT naming the task. */
export function decodeTask(row: TaskRow): Task {
  let raw: unknown;
  try {
    raw = JSON.parse(row.task_json);
  } catch (cause) {
    throw corrupt(row.id, ['task_json: not valid JSON'], cause);
  }
  if (validatedTexts.get(row.id) === row.task_json) return raw as Task;
  const parsed = Task.safeParse(raw);
  if (!parsed.success) throw corrupt(row.id, formatIssues(parsed.error), parsed.error);
  if (parsed.data.id !== row.id) throw corrupt(row.id, [`id: stored as ${parsed.data.id}`]);
  rememberValidated(row.id, row.task_json);
  return parsed.data;
}

/** The stored task document as JSON text, validated (once per distinct text). */
export function decodeTaskJson(row: TaskRow): string {
  if (validatedTexts.get(row.id) !== row.task_json) decodeTask(row);
  return row.task_json;
}

function corrupt(id: string, issues: string[], cause?: unknown): FetchmlError {
  return new FetchmlError(
    'ML_ERR_STORE_CORRUPT',
    `stored task ${id} is corrupt: ${issues.join('; ')}`,
    { cause, details: { task_id: id, issues } },
  );
}

/** UTC ISO-8601 with milliseconds: the text form whose sort order is time order. */
export function sortableTime(iso: string): string {
  return new Date(iso).toISOString();
}

export function insertTask(db: SqliteDatabase, task: Task): void {
  db.prepare(
    `INSERT INTO tasks (id, status, user, name, priority, created_at, commit_id, task_json)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    task.id,
    task.status,
    task.user,
    task.name,
    task.priority,
    sortableTime(task.created_at),
    task.commit_id,
    JSON.stringify(task),
  );
}

/**
 * The task lookup, prepared once per connection: it is the hot read (`GET /v1/tasks/:id`, every
 * status poll), and preparing the statement cost more than running it.
 */
const selectTaskStatements = new WeakMap<SqliteDatabase, Statement<[string], TaskRow>>();

function selectTaskRow(db: SqliteDatabase, id: string): TaskRow | undefined {
  let statement = selectTaskStatements.get(db);
  if (statement === undefined) {
    statement = db.prepare<[string], TaskRow>('SELECT id, task_json FROM tasks WHERE id = ?');
    selectTaskStatements.set(db, statement);
  }
  return statement.get(id);
}

export function selectTask(db: SqliteDatabase, id: string): Task | null {
  const row = selectTaskRow(db, id);
  return row === undefined ? null : decodeTask(row);
}

export function selectTaskJson(db: SqliteDatabase, id: string): string | null {
  const row = selectTaskRow(db, id);
  return row === undefined ? null : decodeTaskJson(row);
}

/** Newest first; the cursor compares (created_at, id) so equal times still page correctly. */
export function selectTasks(db: SqliteDatabase, query: ListTasksQuery): Task[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.status !== undefined && query.status.length > 0) {
    where.push('status IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(query.status));
  }
  if (query.user !== undefined) {
    where.push('user = ?');
    params.push(query.user);
  }
  if (query.name !== undefined) {
    where.push('name = ?');
    params.push(query.name);
  }
  if (query.beforeId !== undefined) {
    const cursor = db.prepare('SELECT created_at, id FROM tasks WHERE id = ?').get(query.beforeId);
    if (cursor === undefined) {
      throw new FetchmlError('ML_ERR_VALIDATION', `beforeId: no such task ${query.beforeId}`, {
        details: { field: 'beforeId' },
      });
    }
    where.push('(created_at, id) < (SELECT created_at, id FROM tasks WHERE id = ?)');
    params.push(query.beforeId);
  }
  const sql = `SELECT id, task_json FROM tasks ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY created_at DESC, id DESC LIMIT ?`;
  const rows = db.prepare(sql).all(...params, query.limit) as TaskRow[];
  return rows.map(decodeTask);
}

export function countByStatus(db: SqliteDatabase): Array<{ status: TaskStatus; n: number }> {
  return db.prepare('SELECT status, count(*) AS n FROM tasks GROUP BY status').all() as Array<{
    status: TaskStatus;
    n: number;
  }>;
}

/** Runs a conditional update; with no match, throws NOT_FOUND or TASK_STATE. */
function transition(
  db: SqliteDatabase,
  id: string,
  action: string,
  allowed: string,
  sql: string,
  params: Record<string, unknown>,
): Task {
  const row = db.prepare(sql).get({ ...params, id }) as TaskRow | undefined;
  if (row !== undefined) return decodeTask(row);
  const current = db.prepare('SELECT status FROM tasks WHERE id = ?').get(id) as
    { status: string } | undefined;
  if (current === undefined) {
    throw new FetchmlError('ML_ERR_TASK_NOT_FOUND', `no such task: ${id}`, {
      details: { task_id: id },
    });
  }
  throw new FetchmlError(
    'ML_ERR_TASK_STATE',
    `cannot ${action} task ${id}: it is ${current.status} (allowed: ${allowed})`,
    { details: { task_id: id, status: current.status, action } },
  );
}

export function updateRunning(db: SqliteDatabase, id: string, u: MarkRunning): Task {
  return transition(
    db,
    id,
    'start',
    'queued, or running with an older attempt',
    `UPDATE tasks SET status = 'running',
       task_json = json_set(task_json, '$.status', 'running', '$.worker_id', :worker_id,
         '$.attempt', CAST(:attempt AS INTEGER), '$.started_at', :started_at,
         '$.updated_at', :started_at)
     WHERE id = :id AND (status = 'queued'
       OR (status = 'running' AND json_extract(task_json, '$.attempt') < :attempt))
     RETURNING id, task_json`,
    { worker_id: u.worker_id, attempt: u.attempt, started_at: u.started_at },
  );
}

export function updateQueued(db: SqliteDatabase, id: string, u: MarkQueued, at: string): Task {
  return transition(
    db,
    id,
    'requeue',
    'queued, running',
    `UPDATE tasks SET status = 'queued',
       task_json = json_set(task_json, '$.status', 'queued', '$.worker_id', NULL,
         '$.started_at', NULL, '$.attempt', CAST(:attempt AS INTEGER), '$.updated_at', :at)
     WHERE id = :id AND status IN ('queued', 'running')
     RETURNING id, task_json`,
    { attempt: u.attempt, at },
  );
}

export function updateFinished(db: SqliteDatabase, id: string, u: FinishTask): Task {
  return transition(
    db,
    id,
    `finish (${u.status})`,
    'queued, running',
    `UPDATE tasks SET status = :status,
       task_json = json_set(task_json, '$.status', :status,
         '$.exit_code', CAST(:exit_code AS INTEGER), '$.error', json(:error),
         '$.ended_at', :ended_at, '$.updated_at', :ended_at)
     WHERE id = :id AND status IN ('queued', 'running')
     RETURNING id, task_json`,
    {
      status: u.status,
      exit_code: u.exit_code,
      error: JSON.stringify(u.error),
      ended_at: u.ended_at,
    },
  );
}

export function updatePriority(db: SqliteDatabase, id: string, priority: number, at: string): Task {
  return transition(
    db,
    id,
    'change the priority of',
    'queued',
    `UPDATE tasks SET priority = :priority,
       task_json = json_set(task_json, '$.priority', CAST(:priority AS INTEGER), '$.updated_at', :at)
     WHERE id = :id AND status = 'queued'
     RETURNING id, task_json`,
    { priority, at },
  );
}

export function updateCancelRequested(db: SqliteDatabase, id: string, at: string): Task {
  return transition(
    db,
    id,
    'request cancellation of',
    'queued, running',
    `UPDATE tasks SET
       task_json = json_set(task_json, '$.cancel_requested', json('true'), '$.updated_at', :at)
     WHERE id = :id AND status IN ('queued', 'running')
     RETURNING id, task_json`,
    { at },
  );
}
