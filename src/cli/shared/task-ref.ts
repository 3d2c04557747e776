/**
 * @module cli/shared/task-ref
 * Task ids as people type them: the full id, the id without `task_`, or any unique prefix of it
 * (what `ml status` shows is a 12-character prefix). A prefix is resolved against the most recent
 * {@link RESOLVE_LIMIT} tasks; an ambiguous one lists the candidates.
 */
import { FetchmlError } from '../../core/errors.ts';
import type { Task } from '../../core/schemas/task.ts';
import type { CliClient } from './deps.ts';

/** How many recent tasks a prefix is matched against (the list route's maximum). */
export const RESOLVE_LIMIT = 1000;
const FULL_ID = /^task_[0-9A-HJKMNP-TV-Z]{26}$/;

/** The id `ref` names; full ids are returned without a request. */
export async function resolveTaskId(
  client: Pick<CliClient, 'listTasks'>,
  ref: string,
): Promise<string> {
  const trimmed = ref.trim();
  const upper = trimmed.replace(/^task_/i, '').toUpperCase();
  const id = `task_${upper}`;
  if (FULL_ID.test(id)) return id;
  if (!/^[0-9A-Z]+$/.test(upper)) {
    throw new FetchmlError('ML_ERR_VALIDATION', `not a task id: ${JSON.stringify(ref)}`, {
      details: { field: 'task', value: ref },
    });
  }
  const { tasks } = await client.listTasks({ limit: RESOLVE_LIMIT });
  const matches = tasks.filter((t: Task) => t.id.startsWith(id));
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length === 0) {
    throw new FetchmlError('ML_ERR_TASK_NOT_FOUND', `no task matches ${JSON.stringify(ref)}`, {
      details: { task_id: ref },
    });
  }
  const listed = matches
    .slice(0, 10)
    .map((t) => `  ${t.id}  ${t.name}  ${t.status}`)
    .join('\n');
  throw new FetchmlError(
    'ML_ERR_VALIDATION',
    `${JSON.stringify(ref)} matches ${matches.length} tasks; give more characters:\n${listed}`,
    { details: { field: 'task', matches: matches.map((t) => t.id) } },
  );
}
