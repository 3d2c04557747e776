/**
 * @module cli/shared/fit
 * Whether any worker the server knows could ever run a task: a task that asks for more CPUs,
 * memory, GPUs or labels than every online worker offers would wait in the queue forever without
 * a word. `ml queue` prints this warning right after submitting (the task stays queued: a bigger
 * worker may join later).
 */
import type { WorkerSummary } from '../../core/schemas/api.ts';
import type { Task } from '../../core/schemas/task.ts';
import { formatBytes } from '../../core/units.ts';

/** A one-line warning when no online worker can fit `task`, else null. */
export function fitWarning(
  task: Pick<Task, 'resources' | 'labels'>,
  workers: readonly WorkerSummary[],
): string | null {
  const online = workers.filter((w) => w.status === 'online');
  if (online.length === 0) {
    return 'no worker is online: the task waits until one starts (`fetchml up` or `fetchml worker`)';
  }
  const want = task.resources;
  const fits = online.some(
    (w) =>
      w.resources.cpus >= want.cpus &&
      w.resources.memory_mb >= want.memory_mb &&
      w.resources.gpus >= want.gpus &&
      task.labels.every((l) => w.labels.includes(l)),
  );
  if (fits) return null;
  const max = (pick: (w: WorkerSummary) => number) => Math.max(...online.map(pick));
  const labels = task.labels.length > 0 ? `, labels [${task.labels.join(', ')}]` : '';
  return (
    `no online worker can fit this task (asks ${want.cpus} cpus, ${formatBytes(want.memory_mb * 1024 * 1024)}, ` +
    `${want.gpus} gpus${labels}; the largest offer ${max((w) => w.resources.cpus)} cpus, ` +
    `${formatBytes(max((w) => w.resources.memory_mb) * 1024 * 1024)}, ${max((w) => w.resources.gpus)} gpus): ` +
    'it stays queued until such a worker joins; lower `resources` in fetchml.yaml or cancel it'
  );
}
