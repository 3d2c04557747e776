/**
 * @module cli/monitor/start
 * `ml monitor` from connected API to quit: the first page of tasks and the counts are requested
 * first, Ink and React load while they travel, and the first frame is drawn with them — so it
 * shows tasks, not a spinner. A server that cannot be reached or refuses the key at this point is
 * an ordinary error (exit 1); later failures are shown in the status line and retried.
 */
import type { MonitorApi } from './api.ts';
import type { Controller } from './controller.ts';
import { createController } from './controller.ts';
import { parseFilter } from './filter.ts';
import type { MonitorTerminal } from './render.tsx';
import { initialState, PAGE_SIZE, reduce } from './state.ts';
import type { Store } from './store.ts';
import { createStore } from './store.ts';
import type { ThemeName } from './theme.ts';
import type { Effect, Size } from './types.ts';

export interface PrepareOptions {
  server: string;
  size: Size;
  /** Refresh period in ms. */
  intervalMs: number;
  /** Initial filter (`--filter`). */
  filter: string;
  now: () => number;
}

/** A loaded store and its controller, before anything is drawn. */
export interface PreparedMonitor {
  store: Store;
  controller: Controller;
  /** Hooks for the UI, set once it is mounted. */
  ui: { exit: () => void; redraw: () => void };
  /** Runs what the first state asks for (e.g. the next page) and starts the refresh timer. */
  begin(): void;
}

/** Starts the first requests; returns the prepared monitor once they answered. */
export async function prepareMonitor(
  api: MonitorApi,
  opts: PrepareOptions,
  first = firstLoad(api, opts.filter),
): Promise<PreparedMonitor> {
  const [tasks, counts] = await first;
  let state = initialState({
    size: opts.size,
    now: opts.now(),
    server: opts.server,
    filter: opts.filter,
  });
  state = reduce(state, { type: 'counts', counts }).state;
  const loaded = reduce(state, {
    type: 'tasks',
    generation: 0,
    mode: 'head',
    tasks,
    limit: PAGE_SIZE,
    now: opts.now(),
  });
  const ui = { exit: () => {}, redraw: () => {} };
  const controller = createController(api, {
    intervalMs: opts.intervalMs,
    now: opts.now,
    onExit: () => ui.exit(),
    onRedraw: () => ui.redraw(),
  });
  const store = createStore(loaded.state, (e: Effect) => controller.run(e));
  controller.attach(store);
  return {
    store,
    controller,
    ui,
    begin() {
      for (const e of loaded.effects) controller.run(e);
      controller.start();
    },
  };
}

/** The first page of tasks (for the filter's server part) and the counts, requested at once. */
export function firstLoad(
  api: MonitorApi,
  filter: string,
): Promise<[Awaited<ReturnType<MonitorApi['listTasks']>>, Record<string, number>]> {
  const query = parseFilter(filter).server;
  return Promise.all([api.listTasks({ ...query, limit: PAGE_SIZE }), api.counts()]);
}

export interface StartOptions {
  server: string;
  theme: ThemeName;
  intervalMs: number;
  filter: string;
  /** Draw on the alternate screen (off for TERM=dumb). */
  altScreen: boolean;
  now: () => number;
}

/** Runs the monitor on `term` until the user quits. */
export async function startMonitor(
  api: MonitorApi,
  term: MonitorTerminal,
  opts: StartOptions,
): Promise<void> {
  // Requests first: Ink and React load while they travel.
  const first = firstLoad(api, opts.filter);
  first.catch(() => undefined); // handled below, by prepareMonitor; not an unhandled rejection
  const [ui, theme] = await Promise.all([import('./render.tsx'), import('./theme.ts')]);
  const size = { columns: term.stdout.columns || 80, rows: term.stdout.rows || 24 };
  const m = await prepareMonitor(api, { ...opts, size }, first);
  const mounted = ui.mountMonitor(m.store, theme.themeOf(opts.theme), term, {
    altScreen: opts.altScreen,
  });
  m.ui.exit = mounted.exit;
  m.ui.redraw = mounted.redraw;
  m.begin();
  try {
    await mounted.done;
  } finally {
    await m.controller.stop();
  }
}
