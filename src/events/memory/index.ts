/**
 * @module events/memory
 * In-process EventBus for `fetchml up` (server and worker in one process).
 */
import type { EventBus, TaskEvent, Unsubscribe } from '../types.ts';

type Listener = (event: TaskEvent) => void;

export function createMemoryEventBus(): EventBus {
  const listeners = new Map<string, Set<Listener>>();
  let closed = false;

  const deliver = (key: string, event: TaskEvent) => {
    for (const listener of listeners.get(key) ?? []) {
      try {
        listener(event);
      } catch {
        // A failing subscriber must not break publishing to the others.
      }
    }
  };

  return {
    publish(event) {
      if (!closed) {
        deliver(event.task_id, event);
        deliver('*', event);
      }
      return Promise.resolve();
    },
    subscribe(taskId, listener): Unsubscribe {
      let set = listeners.get(taskId);
      if (!set) listeners.set(taskId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(taskId);
      };
    },
    close() {
      closed = true;
      listeners.clear();
      return Promise.resolve();
    },
  };
}
