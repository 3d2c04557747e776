/**
 * @module cli/monitor/controller
 * Performs the effects the reducer asks for against the server ({@link MonitorApi}) and
 * dispatches what comes back: the list is refreshed every `intervalMs` (the loaded head of it, at
 * most 1,000 tasks per request, plus the counts), older pages are fetched when the selection
 * nears the end of what is loaded, and a log is followed over the WebSocket while the log viewer
 * is open. Log text is batched per {@link LOG_BATCH_MS}, so replaying a long log costs a few
 * renders, not one per line. A failed refresh is shown and retried at the next tick.
 */
import { coerceError } from '../../core/errors.ts';
import { shortId } from '../shared/format.ts';
import type { MonitorApi } from './api.ts';
import { parseFilter } from './filter.ts';
import { MAX_REFRESH, PAGE_SIZE } from './state.ts';
import type { Store } from './store.ts';
import type { Effect } from './types.ts';

export const LOG_BATCH_MS = 30;

const CANCEL_WORDS: Record<string, string> = {
  removed: 'cancelled (removed from the queue)',
  signalled: 'stopping (its worker was told to stop)',
  already_finished: 'already finished',
};

export interface ControllerOptions {
  /** Refresh period in ms. */
  intervalMs: number;
  now: () => number;
  /** Called for the `exit` effect (q, Ctrl-C). */
  onExit: () => void;
  /** Called for the `redraw` effect (resize, Ctrl-L): clear the screen before the next frame. */
  onRedraw?: () => void;
}

export interface Controller {
  attach(store: Store): void;
  run(effect: Effect): void;
  /** Starts the periodic refresh. */
  start(): void;
  /** Stops timers and the log stream; settles once in-flight requests are done. */
  stop(): Promise<void>;
  /** Settles when no refresh is running (tests). */
  idle(): Promise<void>;
}

export function createController(api: MonitorApi, opts: ControllerOptions): Controller {
  let store: Store | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let refreshing: Promise<void> | null = null;
  let again = false;
  let log: { taskId: string; handle: { close(): void } } | null = null;
  let pending = '';
  let flushTimer: NodeJS.Timeout | null = null;
  const inflight = new Set<Promise<unknown>>();
  const st = () => {
    if (!store) throw new Error('controller not attached');
    return store;
  };
  const track = (p: Promise<unknown>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  async function refreshOnce(): Promise<void> {
    const s = st().get();
    const generation = s.generation;
    const query = parseFilter(s.filter).server;
    const limit = Math.min(MAX_REFRESH, Math.max(PAGE_SIZE, s.tasks.length));
    const [tasks, counts] = await Promise.allSettled([
      api.listTasks({ ...query, limit }),
      api.counts(),
    ]);
    if (stopped) return;
    if (tasks.status === 'fulfilled') {
      st().dispatch({
        type: 'tasks',
        generation,
        mode: 'head',
        tasks: tasks.value,
        limit,
        now: opts.now(),
      });
    } else {
      const message = coerceError(tasks.reason).message;
      st().dispatch({ type: 'tasks-failed', generation, mode: 'head', message });
    }
    if (counts.status === 'fulfilled') st().dispatch({ type: 'counts', counts: counts.value });
  }

  function refresh(): Promise<void> {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      try {
        do {
          again = false;
          await refreshOnce();
        } while (again && !stopped);
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  async function loadMore(): Promise<void> {
    const s = st().get();
    const last = s.tasks.at(-1);
    if (!last) return refresh();
    const generation = s.generation;
    try {
      const tasks = await api.listTasks({
        ...parseFilter(s.filter).server,
        limit: PAGE_SIZE,
        before: last.id,
      });
      if (stopped) return;
      st().dispatch({
        type: 'tasks',
        generation,
        mode: 'more',
        tasks,
        limit: PAGE_SIZE,
        now: opts.now(),
      });
    } catch (err) {
      if (stopped) return;
      const message = coerceError(err).message;
      st().dispatch({ type: 'tasks-failed', generation, mode: 'more', message });
    }
  }

  async function mutate(what: () => Promise<string>, failurePrefix: string): Promise<void> {
    try {
      const text = await what();
      if (!stopped) st().dispatch({ type: 'done', message: { text, kind: 'info' }, refresh: true });
    } catch (err) {
      if (stopped) return;
      const text = `${failurePrefix}: ${coerceError(err).message}`;
      st().dispatch({ type: 'done', message: { text, kind: 'error' }, refresh: false });
    }
  }

  function flush(): void {
    flushTimer = null;
    if (!log || pending === '') return;
    const text = pending;
    pending = '';
    st().dispatch({ type: 'log-text', taskId: log.taskId, text });
  }

  function closeLog(): void {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    pending = '';
    log?.handle.close();
    log = null;
  }

  function openLog(taskId: string): void {
    closeLog();
    const current = { taskId, handle: { close() {} } };
    log = current;
    current.handle = api.followLog(taskId, {
      text(text) {
        if (log !== current) return;
        pending += text;
        flushTimer ??= setTimeout(flush, LOG_BATCH_MS);
      },
      end(summary) {
        if (log !== current) return;
        flush();
        st().dispatch({ type: 'log-end', taskId, summary });
      },
      problem(problem) {
        if (log !== current) return;
        st().dispatch({ type: 'log-problem', taskId, problem });
      },
    });
  }

  return {
    attach(s) {
      store = s;
    },
    run(effect) {
      if (stopped) return;
      switch (effect.type) {
        case 'refresh':
          track(refresh());
          return;
        case 'load-more':
          track(loadMore());
          return;
        case 'cancel':
          track(
            mutate(
              async () => {
                const r = await api.cancel(effect.taskId);
                const extra = r.outcome === 'already_finished' ? ` (${r.status})` : '';
                return `${shortId(effect.taskId)}: ${CANCEL_WORDS[r.outcome] ?? r.outcome}${extra}`;
              },
              `cannot cancel ${shortId(effect.taskId)}`,
            ),
          );
          return;
        case 'priority':
          track(
            mutate(
              async () => {
                const r = await api.setPriority(effect.taskId, effect.priority);
                return `${shortId(effect.taskId)}: priority ${r.previous} -> ${r.priority}`;
              },
              `cannot change the priority of ${shortId(effect.taskId)}`,
            ),
          );
          return;
        case 'open-log':
          openLog(effect.taskId);
          return;
        case 'close-log':
          closeLog();
          return;
        case 'redraw':
          opts.onRedraw?.();
          return;
        case 'exit':
          opts.onExit();
          return;
      }
    },
    start() {
      timer = setInterval(() => {
        st().dispatch({ type: 'tick', now: opts.now() });
        track(refresh());
      }, opts.intervalMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      closeLog();
      await Promise.allSettled([...inflight]);
    },
    async idle() {
      while (refreshing || inflight.size > 0) await Promise.allSettled([...inflight, refreshing]);
    },
  };
}
