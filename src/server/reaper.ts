/**
 * @module server/reaper
 * Expired leases back into the queue. The queue only records expiry; someone must call
 * `reapExpired` periodically (queue/types.ts) and mirror each outcome into the store, or a task whose
 * worker died would sit "running" forever. The server does it while it listens.
 */
import { isFetchmlError } from '../core/errors.ts';
import type { RouteContext } from './context.ts';
import { nowIso } from './context.ts';
import { publishStatus } from './task-actions.ts';

/** Reaps once; returns how many entries changed. */
export async function reapOnce(ctx: RouteContext): Promise<number> {
  const reaped = await ctx.queue.reapExpired();
  for (const entry of reaped) {
    try {
      const task =
        entry.outcome === 'requeued'
          ? await ctx.store.markTaskQueued(entry.task_id, {
              attempt: entry.attempt,
              at: nowIso(ctx),
            })
          : await ctx.store.finishTask(entry.task_id, {
              status: entry.outcome === 'cancelled' ? 'cancelled' : 'failed',
              exit_code: null,
              error:
                entry.outcome === 'cancelled'
                  ? {
                      code: 'ML_ERR_TASK_CANCELLED',
                      message: 'cancelled; its worker stopped answering',
                    }
                  : {
                      code: 'ML_ERR_LEASE_LOST',
                      message: `its worker stopped answering on each of ${entry.attempt} attempts`,
                    },
              ended_at: nowIso(ctx),
            });
      await publishStatus(ctx, task);
    } catch (err) {
      // Already moved on (a worker finished it in between): the store is right as it is.
      if (
        !isFetchmlError(err, 'ML_ERR_TASK_STATE') &&
        !isFetchmlError(err, 'ML_ERR_TASK_NOT_FOUND')
      ) {
        throw err;
      }
    }
  }
  return reaped.length;
}

/** Reaps every `intervalMs` until the returned stop function is called. */
export function startReaper(
  ctx: RouteContext,
  intervalMs: number,
  onError: (err: unknown) => void,
): () => Promise<void> {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return; // the previous pass is still going
    running = reapOnce(ctx)
      .catch(onError)
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
