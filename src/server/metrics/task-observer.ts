/**
 * @module server/metrics/task-observer
 * Task histograms from the EventBus: the server listens to every `task.status` event and, when a
 * task turns `running`, observes how long the attempt waited in the queue; when it ends after
 * running, how long it ran (by outcome). The times come from the stored task (its `queued_at`,
 * `started_at`, `ended_at`); a retry's wait starts at its requeue event.
 *
 * What this sees is what the event bus carries to the server: every transition with `fetchml up`
 * (server and worker share the in-process bus) or a shared bus; with `fetchml server` and
 * `fetchml worker` as separate processes on the embedded in-process bus, only the transitions the
 * server makes itself (submit, cancel, reaping). Best-effort: a failed read skips one observation.
 */
import type { EventBus, TaskEvent } from '../../events/types.ts';
import type { MetadataStore } from '../../store/types.ts';
import type { ServerMetrics } from './registry.ts';

/** Requeue times remembered for retries, at most (oldest forgotten first). */
const REQUEUES_MAX = 10_000;

/** Starts observing; returns the function that stops it and waits for reads in flight. */
export function observeTasks(
  events: EventBus,
  store: MetadataStore,
  metrics: Pick<ServerMetrics, 'queueWait' | 'runDuration'>,
): () => Promise<void> {
  const requeuedAt = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();

  const onStatus = async (e: Extract<TaskEvent, { type: 'task.status' }>) => {
    if (e.status === 'queued') {
      if (e.attempt > 0) {
        requeuedAt.delete(e.task_id);
        requeuedAt.set(e.task_id, Date.parse(e.at));
        if (requeuedAt.size > REQUEUES_MAX) {
          const oldest = requeuedAt.keys().next().value;
          if (oldest !== undefined) requeuedAt.delete(oldest);
        }
      }
      return;
    }
    if (
      e.status !== 'running' &&
      e.status !== 'completed' &&
      e.status !== 'failed' &&
      e.status !== 'cancelled'
    ) {
      return;
    }
    const task = await store.getTask(e.task_id);
    if (!task || task.started_at === null) return;
    const started = Date.parse(task.started_at);
    if (e.status === 'running') {
      const entered = task.attempt <= 1 ? Date.parse(task.queued_at) : requeuedAt.get(task.id);
      requeuedAt.delete(task.id);
      if (entered !== undefined && Number.isFinite(entered) && Number.isFinite(started)) {
        metrics.queueWait.observe(Math.max(0, (started - entered) / 1000));
      }
      return;
    }
    requeuedAt.delete(task.id);
    if (task.ended_at === null || task.status !== e.status) return;
    const ended = Date.parse(task.ended_at);
    if (Number.isFinite(ended) && Number.isFinite(started)) {
      metrics.runDuration.observe({ outcome: e.status }, Math.max(0, (ended - started) / 1000));
    }
  };

  const unsubscribe = events.subscribe('*', (event) => {
    if (event.type !== 'task.status') return;
    const p: Promise<void> = onStatus(event)
      .catch(() => undefined)
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  });
  return async () => {
    unsubscribe();
    await Promise.all([...inFlight]);
  };
}
