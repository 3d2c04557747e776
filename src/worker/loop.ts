/**
 * @module worker/loop
 * The claim loop: while the worker runs, ask the queue for the best job that fits the free
 * resources, up to `concurrency` at once; when nothing fits, wait `pollMs` (or until a running
 * task ends, which frees resources: the loop is woken at once). Claimed tasks run concurrently
 * (./execute.ts); the loop tracks them so shutdown can stop and re-queue each.
 *
 * Images: a container worker asks only for tasks whose image it has (./images.ts): before each
 * claim its {@link ImageGate} checks the images queued tasks name, and the claim lists the present
 * ones, so a task whose image is missing here is never claimed by this worker.
 *
 * Robustness: a claim or store error is reported as an `error` event and retried after `pollMs`;
 * the loop promise never rejects. A claim that lands after shutdown began is released at once.
 */
import { coerceError, FetchmlError } from '../core/errors.ts';
import type { WorkerContext } from './context.ts';
import type { ImageGate } from './images.ts';
import { reportError } from './context.ts';
import { executeAttempt } from './execute.ts';
import type { Slots } from './slots.ts';
import { stagedDirs } from './stage.ts';

/** A task this worker runs now. */
export interface RunningTask {
  controller: AbortController;
  done: Promise<void>;
}

/** A wait of up to `ms` that {@link Sleeper.wake} ends early (a wake while awake is kept). */
export class Sleeper {
  #pending = false;
  #wake: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  wake(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }
}

/** Loop options. */
export interface LoopOptions {
  ctx: WorkerContext;
  slots: Slots;
  labels: readonly string[];
  concurrency: number;
  pollMs: number;
  running: Map<string, RunningTask>;
  sleeper: Sleeper;
  /** Whether the worker still claims work. */
  active(): boolean;
  /** Container runtimes: which queued images this worker has (null: it claims any image). */
  images: ImageGate | null;
  /** The set of missing images changed (the worker record should say so now). */
  onImagesChanged(): void;
}

/** Claims one task and starts it; resolves true when a task was claimed. */
async function claimOne(o: LoopOptions, images: string[] | undefined): Promise<boolean> {
  const { ctx, slots } = o;
  const { queue, store } = ctx.deps;
  const free = slots.free();
  if (free.cpus <= 0 || free.memory_mb <= 0) return false;
  const claim = await queue.claim({
    worker_id: ctx.id,
    free: { ...free, labels: o.labels },
    lease_ms: ctx.leaseMs,
    ...(images === undefined ? {} : { images }),
  });
  if (!claim) return false;
  ctx.emitter.emit('task:claimed', {
    task_id: claim.task_id,
    attempt: claim.attempt,
    lease_id: claim.lease_id,
    at: ctx.deps.clock(),
  });
  const giveBack = () =>
    queue.release(claim.task_id, claim.lease_id).catch((err: unknown) => {
      reportError(ctx, 'release claim', coerceError(err), claim.task_id);
    });
  if (!o.active()) {
    await giveBack();
    return false;
  }
  let task;
  try {
    task = await store.getTask(claim.task_id);
  } catch (err) {
    reportError(ctx, 'load claimed task', coerceError(err), claim.task_id);
    await giveBack();
    return false;
  }
  if (!task) {
    // The queue knows a task the store does not: end it, or it would be claimed forever.
    reportError(
      ctx,
      'load claimed task',
      new FetchmlError('ML_ERR_TASK_NOT_FOUND', `claimed ${claim.task_id}, unknown to the store`),
      claim.task_id,
    );
    await queue.fail(claim.task_id, claim.lease_id, { retry: false }).catch(() => undefined);
    return true;
  }
  const gpuIndices = slots.reserve(task.id, task.resources);
  const controller = new AbortController();
  const dirs = stagedDirs(ctx.home, ctx.workRoot, task.id, claim.attempt);
  const done = executeAttempt(ctx, { claim, task, gpuIndices, dirs, controller })
    .then(
      () => undefined,
      (err: unknown) => reportError(ctx, 'execute attempt', coerceError(err), claim.task_id),
    )
    .finally(() => {
      slots.release(task.id);
      o.running.delete(task.id);
      o.sleeper.wake();
    });
  o.running.set(task.id, { controller, done });
  if (!o.active()) controller.abort('shutdown');
  return true;
}

/**
 * The images this worker may claim now (undefined: any). Checked on every pass, also while the
 * worker is full, so what it advertises as missing stays current. A failed check claims no image.
 */
async function presentImages(o: LoopOptions): Promise<string[] | undefined> {
  if (o.images === null) return undefined;
  try {
    const check = await o.images.refresh(o.ctx.deps.queue);
    if (check.changed) o.onImagesChanged();
    return check.present;
  } catch (err) {
    reportError(o.ctx, 'check images', coerceError(err));
    return [];
  }
}

/** Runs until `active()` turns false; never rejects. */
export async function runClaimLoop(o: LoopOptions): Promise<void> {
  while (o.active()) {
    let claimed = false;
    const images = await presentImages(o);
    if (o.running.size < o.concurrency && o.active()) {
      try {
        claimed = await claimOne(o, images);
      } catch (err) {
        reportError(o.ctx, 'claim', coerceError(err));
      }
    }
    if (!claimed && o.active()) await o.sleeper.sleep(o.pollMs);
  }
}
