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
import { paintFrame } from './paint.ts';
import type { mountMonitor, MonitorTerminal } from './render.tsx';
import { initialState, PAGE_SIZE, reduce } from './state.ts';
import type { Store } from './store.ts';
import { createStore } from './store.ts';
import { themeOf } from './theme.ts';
import type { ThemeName } from './theme.ts';
import { frameLines } from './views/frame.ts';
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

const ALT_SCREEN_ON = '\x1b[?1049h';
const ALT_SCREEN_OFF = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';

/**
 * Loads Ink (cli/monitor/render). yoga-layout, Ink's layout engine, decodes its WebAssembly with
 * `fetch` when the global exists, and touching Node's lazy `fetch` global loads Node's bundled
 * undici (~100-200 ms on a small VM) for a `data:` URL; without it, yoga decodes the same bytes
 * directly. So `fetch` is hidden for the duration of the import, then put back as it was.
 *
 * Ink also decides once, when it is imported (package is-in-ci), whether it runs in CI, and there
 * it draws nothing until exit: with `CI` or `CONTINUOUS_INTEGRATION` set in a terminal (CI jobs,
 * some shells) the monitor would freeze on its first frame. The monitor only runs in a terminal,
 * so both read as unset during the import, then are put back.
 */
async function loadInk(): Promise<{ mountMonitor: typeof mountMonitor }> {
  const fetchDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
  Object.defineProperty(globalThis, 'fetch', {
    value: undefined,
    configurable: true,
    writable: true,
  });
  const ciVars = ['CI', 'CONTINUOUS_INTEGRATION'] as const;
  const saved = ciVars.map((k) => process.env[k]);
  for (const k of ciVars) process.env[k] = 'false';
  try {
    return await import('./render.tsx');
  } finally {
    if (fetchDescriptor) Object.defineProperty(globalThis, 'fetch', fetchDescriptor);
    ciVars.forEach((k, i) => {
      if (saved[i] === undefined) delete process.env[k];
      else process.env[k] = saved[i];
    });
  }
}

/**
 * Runs the monitor on `term` until the user quits: the requests go out first, Ink loads while they
 * travel, the first frame is painted as soon as the answers are in (cli/monitor/paint), and Ink
 * takes over when it is loaded.
 */
export async function startMonitor(
  api: MonitorApi,
  term: MonitorTerminal,
  opts: StartOptions,
): Promise<void> {
  const first = firstLoad(api, opts.filter);
  first.catch(() => undefined); // handled by prepareMonitor below
  const ink = loadInk();
  ink.catch(() => undefined); // handled below
  const size = { columns: term.stdout.columns || 80, rows: term.stdout.rows || 24 };
  const m = await prepareMonitor(api, { ...opts, size }, first);
  const theme = themeOf(opts.theme);
  if (opts.altScreen) term.stdout.write(ALT_SCREEN_ON);
  term.stdout.write(paintFrame(frameLines(m.store.get()), theme));
  // No echo of keys typed before Ink is ready; they wait in the buffer until it reads them.
  if (term.stdin.isTTY) term.stdin.setRawMode(true);
  try {
    const ui = await ink;
    const mounted = ui.mountMonitor(m.store, theme, term);
    m.ui.exit = mounted.exit;
    m.ui.redraw = mounted.redraw;
    m.begin();
    await mounted.done;
  } finally {
    await m.controller.stop();
    if (term.stdin.isTTY) term.stdin.setRawMode(false);
    term.stdout.write(SHOW_CURSOR + (opts.altScreen ? ALT_SCREEN_OFF : ''));
  }
}
