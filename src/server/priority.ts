/**
 * @module server/priority
 * Changing the priority of a queued task (`POST /v1/tasks/:id/priority`). The queue holds the
 * order, so it changes first, in one atomic step that refuses an entry no longer queued; the
 * store's record follows. A worker may claim the task between the two writes: the claim already
 * saw the new priority, the store then refuses (the task runs) and the answer is the task as
 * stored — never a queued task whose record and queue entry disagree for longer than that instant.
 */
import { FetchmlError, isFetchmlError } from '../core/errors.ts';
import type { SetPriorityResponse } from '../core/schemas/api.ts';
import type { RouteContext } from './context.ts';
import { loadTask } from './task-actions.ts';

/** Sets the priority of queued task `id`; anything else is ML_ERR_TASK_STATE, nothing changed. */
export async function changePriority(
  ctx: RouteContext,
  id: string,
  priority: number,
): Promise<SetPriorityResponse> {
  const before = await loadTask(ctx, id);
  if (before.status !== 'queued') {
    throw new FetchmlError(
      'ML_ERR_TASK_STATE',
      `cannot change the priority of task ${id}: it is ${before.status} (allowed: queued)`,
      { details: { task_id: id, status: before.status, action: 'set priority' } },
    );
  }
  const { previous } = await ctx.queue.setPriority(id, priority);
  let task;
  try {
    task = await ctx.store.setTaskPriority(id, priority);
  } catch (err) {
    if (!isFetchmlError(err, 'ML_ERR_TASK_STATE')) throw err;
    task = await loadTask(ctx, id);
  }
  return { task_id: id, previous, priority, task };
}
