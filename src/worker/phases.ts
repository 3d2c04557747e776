/**
 * @module worker/phases
 * What the worker reports about its attempts in its store record (core/schemas/status glossary):
 * each attempt's phase — `staging` from the claim (image, snapshot, datasets), `running` while the
 * job's process runs, `finishing` while its output is stored — and the worker's own phase derived
 * from them. `ml status` shows both; the record is refreshed at every change, not only at the
 * heartbeat, so status is current within a store write.
 */
import type { WorkerPhase, WorkerTask, WorkerTaskPhase } from '../core/schemas/status.ts';
import type { Task } from '../core/schemas/task.ts';

/** The attempts a worker holds and where each is. */
export class AttemptPhases {
  readonly #attempts = new Map<string, WorkerTask>();

  /** Records that `taskId`'s attempt entered `phase` at `atMs`. */
  set(taskId: string, attempt: number, phase: WorkerTaskPhase, atMs: number): void {
    this.#attempts.set(taskId, {
      task_id: taskId,
      attempt,
      phase,
      since: new Date(atMs).toISOString(),
    });
  }

  delete(taskId: string): void {
    this.#attempts.delete(taskId);
  }

  /** The attempts, in claim order. */
  list(): WorkerTask[] {
    return [...this.#attempts.values()];
  }
}

/**
 * When an attempt entered the queue, ms since the epoch: the submission for the first attempt, the
 * requeue (the task's last update before this claim) for a retry.
 */
export function enteredQueueAt(
  task: Pick<Task, 'queued_at' | 'updated_at'>,
  attempt: number,
): number {
  return Date.parse(attempt <= 1 ? task.queued_at : task.updated_at);
}

/** The worker's phase: draining while stopping, else running, staging or idle by its attempts. */
export function workerPhase(attempts: readonly WorkerTask[], stopping: boolean): WorkerPhase {
  if (stopping) return 'draining';
  const phases = new Set(attempts.map((a) => a.phase));
  if (phases.has('running') || phases.has('finishing')) return 'running';
  if (phases.has('staging')) return 'staging';
  return 'idle';
}
