/**
 * @module core/layout
 * Where a task's files live under the base dir (DESIGN.md "Storage layout"):
 * `<home>/experiments/<task-id>/{run_manifest.json, logs/output.log, output/}`. The worker writes
 * them, the server reads them; both use these helpers so they agree. A task id is checked before it
 * becomes a path segment, so a hostile id can never name a file outside `experiments/`.
 */
import { join } from 'node:path';

import { FetchmlError } from './errors.ts';
import { isId } from './ids.ts';

/** The per-task file locations the server reads. */
export interface TaskFiles {
  /** `<home>/experiments/<id>` */
  dir(taskId: string): string;
  /** The task's combined log (stdout, stderr and system lines, appended by the worker). */
  logPath(taskId: string): string;
  /** `run_manifest.json`, written by the worker. */
  manifestPath(taskId: string): string;
}

/** Throws ML_ERR_TASK_NOT_FOUND unless `id` is a well-formed task id (`task_<26 base32>`). */
export function assertTaskId(id: string): string {
  if (!isId(id, 'task')) {
    throw new FetchmlError('ML_ERR_TASK_NOT_FOUND', `no such task: ${JSON.stringify(id)}`, {
      details: { task_id: id },
    });
  }
  return id;
}

/** `<home>/experiments/<task-id>` (the id is validated). */
export function taskDir(home: string, taskId: string): string {
  return join(home, 'experiments', assertTaskId(taskId));
}

/** The layout above, rooted at `home`. */
export function taskFiles(home: string): TaskFiles {
  return {
    dir: (id) => taskDir(home, id),
    logPath: (id) => join(taskDir(home, id), 'logs', 'output.log'),
    manifestPath: (id) => join(taskDir(home, id), 'run_manifest.json'),
  };
}
