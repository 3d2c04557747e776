/**
 * @module cli/monitor/filter
 * The monitor's filter (`/`): `status:running,queued`, `user:ana` and `name:resnet` are sent to the
 * server (`GET /v1/tasks?status=&user=&name=`, so they reach every task, not only loaded ones);
 * any other word must appear, case-insensitively, in a loaded task's id, name, user or status.
 */
import type { ServerQuery, Task, TaskStatus } from './types.ts';

export const TASK_STATUS_NAMES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;

/** A parsed filter. */
export interface ParsedFilter {
  server: ServerQuery;
  words: string[];
  /** What is wrong with the text, when something is. */
  error: string | null;
}

/** Parses filter text; an unknown status is an error naming the valid ones. */
export function parseFilter(text: string): ParsedFilter {
  const server: ServerQuery = {};
  const words: string[] = [];
  let error: string | null = null;
  for (const token of text.trim().split(/\s+/).filter(Boolean)) {
    const m = /^(status|s|user|u|name|n):(.*)$/i.exec(token);
    if (!m) {
      words.push(token.toLowerCase());
      continue;
    }
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    if (value === '') {
      error = `${token}: give a value after the colon`;
    } else if (key === 's' || key === 'status') {
      const list = value.toLowerCase().split(',').filter(Boolean);
      const bad = list.filter((s) => !(TASK_STATUS_NAMES as readonly string[]).includes(s));
      if (bad.length > 0)
        error = `unknown status ${bad.join(', ')} (${TASK_STATUS_NAMES.join(', ')})`;
      else server.status = list as TaskStatus[];
    } else if (key === 'u' || key === 'user') {
      server.user = value;
    } else {
      server.name = value;
    }
  }
  return { server, words, error };
}

/** Whether two server queries ask for the same tasks. */
export function sameQuery(a: ServerQuery, b: ServerQuery): boolean {
  return (
    (a.status ?? []).join(',') === (b.status ?? []).join(',') &&
    a.user === b.user &&
    a.name === b.name
  );
}

/** Whether `task` passes the free words of a filter. */
export function matchesWords(task: Task, words: readonly string[]): boolean {
  if (words.length === 0) return true;
  const hay = `${task.id} ${task.name} ${task.user} ${task.status}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}
