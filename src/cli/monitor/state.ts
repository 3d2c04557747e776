/**
 * @module cli/monitor/state
 * The monitor's reducer: (state, action) → (state, effects), pure apart from the log buffer it
 * appends to (see cli/monitor/log-buffer). Keys by screen:
 *
 * - everywhere: `?` help, Ctrl-C quit;
 * - list: `j`/`k`/arrows move, PgUp/PgDn (Ctrl-B/Ctrl-F, space) page, `g`/`G` (Home/End) ends,
 *   Enter details, `l` logs, `c` cancel (asks y/N), `p` priority, `/` filter, Esc clears the
 *   filter, `r` refresh, `q` quit;
 * - details: the same moves and actions; `q`/Esc/Left back to the list;
 * - logs: `j`/`k`/arrows scroll (stops following), PgUp/PgDn page, `g` top, `G`/`f` follow the
 *   end, Left/Right shift sideways, `/` search, `n`/`N` next/previous match, `q`/Esc back.
 *
 * The list holds loaded pages only; moving near the end of them asks for the next page
 * ({@link PAGE_SIZE}), so a server with 10,000 tasks costs one page for the first frame.
 */
import { matchesWords, parseFilter, sameQuery } from './filter.ts';
import { charOf } from './keys.ts';
import { scrollTop } from './layout.ts';
import { LogBuffer } from './log-buffer.ts';
import type { Action, Effect, KeyName, MonitorState, Size, Step, Task, View } from './types.ts';

/** Tasks per page (`GET /v1/tasks?limit=`). */
export const PAGE_SIZE = 100;
/** A head refresh re-reads at most this many tasks (the list route's maximum). */
export const MAX_REFRESH = 1000;
/** Below this many loaded tasks, a filter that shows too few rows loads more pages by itself. */
export const AUTOFILL_MAX = 2000;
/** Priorities the server accepts. */
export const PRIORITY_RANGE = [-1000, 1000] as const;

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Rows of the list or log body for a terminal size (header, column titles, two bottom lines). */
export function bodyHeight(size: Size): number {
  return Math.max(1, size.rows - 5);
}

/** The state before anything is loaded. */
export function initialState(opts: {
  size: Size;
  now: number;
  server: string;
  filter?: string;
}): MonitorState {
  return {
    view: 'list',
    back: 'list',
    size: opts.size,
    now: opts.now,
    server: opts.server,
    tasks: [],
    hasMore: false,
    loadingMore: false,
    counts: null,
    generation: 0,
    filter: opts.filter ?? '',
    selectedId: null,
    cursor: 0,
    top: 0,
    prompt: null,
    confirm: null,
    log: null,
    message: null,
    problem: null,
    lastRefresh: null,
  };
}

const shownCache = new WeakMap<Task[], { filter: string; shown: Task[] }>();

/** The tasks the list shows: the loaded ones that pass the filter's free words. */
export function shownTasks(s: Pick<MonitorState, 'tasks' | 'filter'>): Task[] {
  const hit = shownCache.get(s.tasks);
  if (hit && hit.filter === s.filter) return hit.shown;
  const { words } = parseFilter(s.filter);
  const shown = words.length === 0 ? s.tasks : s.tasks.filter((t) => matchesWords(t, words));
  shownCache.set(s.tasks, { filter: s.filter, shown });
  return shown;
}

/** The selected task, if any. */
export function selectedTask(s: MonitorState): Task | null {
  return shownTasks(s)[s.cursor] ?? null;
}

/** Whether `a` sorts after `b` in the list (older: created earlier, then smaller id). */
function olderThan(a: Task, b: Task): boolean {
  return a.created_at < b.created_at || (a.created_at === b.created_at && a.id < b.id);
}

/** Re-places the cursor on the selected task (or clamps it) and keeps it in view. */
function settle(s: MonitorState, userMoved = false): Step {
  const shown = shownTasks(s);
  let cursor = s.cursor;
  if (s.selectedId !== null) {
    const at = shown.findIndex((t) => t.id === s.selectedId);
    if (at !== -1) cursor = at;
  }
  cursor = Math.max(0, Math.min(cursor, shown.length - 1));
  const height = bodyHeight(s.size);
  const state: MonitorState = {
    ...s,
    cursor,
    selectedId: shown[cursor]?.id ?? null,
    top: scrollTop(cursor, s.top, height, shown.length),
  };
  const effects: Effect[] = [];
  const nearEnd = cursor >= shown.length - height;
  if (
    state.hasMore &&
    !state.loadingMore &&
    nearEnd &&
    (userMoved || state.tasks.length < AUTOFILL_MAX)
  ) {
    state.loadingMore = true;
    effects.push({ type: 'load-more' });
  }
  return { state, effects };
}

/** Moves the list cursor to `index` (clamped). */
function moveTo(s: MonitorState, index: number): Step {
  const shown = shownTasks(s);
  const cursor = Math.max(0, Math.min(index, shown.length - 1));
  return settle({ ...s, cursor, selectedId: shown[cursor]?.id ?? null }, true);
}

const ok = (state: MonitorState, ...effects: Effect[]): Step => ({ state, effects });

function info(s: MonitorState, text: string, kind: 'info' | 'error' = 'info'): Step {
  return ok({ ...s, message: { text, kind } });
}

/** Merges loaded tasks into the state. */
function onTasks(s: MonitorState, a: Extract<Action, { type: 'tasks' }>): Step {
  if (a.generation !== s.generation) return ok(s);
  let tasks: Task[];
  let hasMore: boolean;
  if (a.mode === 'more') {
    const seen = new Set(s.tasks.map((t) => t.id));
    tasks = [...s.tasks, ...a.tasks.filter((t) => !seen.has(t.id))];
    hasMore = a.tasks.length >= a.limit;
  } else if (a.tasks.length < a.limit) {
    tasks = a.tasks;
    hasMore = false;
  } else {
    const last = a.tasks.at(-1)!;
    const tail = s.tasks.filter((t) => olderThan(t, last));
    tasks = [...a.tasks, ...tail];
    hasMore = tail.length > 0 ? s.hasMore : true;
  }
  return settle({
    ...s,
    tasks,
    hasMore,
    loadingMore: a.mode === 'more' ? false : s.loadingMore,
    problem: null,
    lastRefresh: a.now,
    now: a.now,
  });
}

/** Opens the prompt or confirmation for an action on `task`, or says why it cannot be done. */
function act(s: MonitorState, what: 'cancel' | 'priority', task: Task | null): Step {
  if (!task) return info(s, 'no task selected', 'error');
  if (what === 'cancel') {
    if (TERMINAL.has(task.status)) return info(s, `${task.id} already ${task.status}`, 'error');
    return ok({ ...s, confirm: { kind: 'cancel', taskId: task.id, name: task.name } });
  }
  if (task.status !== 'queued') {
    return info(
      s,
      `priority can change only while a task is queued (${task.id} is ${task.status})`,
      'error',
    );
  }
  return ok({ ...s, prompt: { kind: 'priority', text: String(task.priority), taskId: task.id } });
}

function openLog(s: MonitorState, task: Task | null): Step {
  if (!task) return info(s, 'no task selected', 'error');
  const log = {
    taskId: task.id,
    buffer: new LogBuffer(),
    version: 0,
    top: 0,
    left: 0,
    follow: true,
    search: null,
    match: null,
    ended: null,
    problem: null,
  };
  return ok({ ...s, view: 'logs', back: s.view, log }, { type: 'open-log', taskId: task.id });
}

function closeLog(s: MonitorState): Step {
  const back: View = s.back === 'logs' || s.back === 'help' ? 'list' : s.back;
  return ok({ ...s, view: back, back: 'list', log: null }, { type: 'close-log' });
}

/** Keys of the list and details screens. */
function listKey(s: MonitorState, key: KeyName): Step {
  const page = bodyHeight(s.size);
  const c = charOf(key);
  const task = selectedTask(s);
  if (key === 'down' || c === 'j') return moveTo(s, s.cursor + 1);
  if (key === 'up' || c === 'k') return moveTo(s, s.cursor - 1);
  if (key === 'pagedown' || key === 'ctrl-f' || key === 'ctrl-d' || c === ' ')
    return moveTo(s, s.cursor + page);
  if (key === 'pageup' || key === 'ctrl-b' || key === 'ctrl-u') return moveTo(s, s.cursor - page);
  if (key === 'home' || c === 'g') return moveTo(s, 0);
  if (key === 'end' || c === 'G') return moveTo(s, shownTasks(s).length - 1);
  if (c === 'l') return openLog(s, task);
  if (c === 'c') return act(s, 'cancel', task);
  if (c === 'p') return act(s, 'priority', task);
  if (c === '/') return ok({ ...s, prompt: { kind: 'filter', text: s.filter } });
  if (c === 'r' || key === 'ctrl-l') return ok(s, { type: 'refresh' }, { type: 'redraw' });
  if (s.view === 'details') {
    if (c === 'q' || c === 'h' || key === 'escape' || key === 'left' || key === 'backspace')
      return ok({ ...s, view: 'list' });
    return ok(s);
  }
  if (key === 'enter' || key === 'right') {
    return task ? ok({ ...s, view: 'details' }) : info(s, 'no task selected', 'error');
  }
  if (key === 'escape' && s.filter !== '') return applyFilter(s, '');
  if (c === 'q') return ok(s, { type: 'exit' });
  return ok(s);
}

/** Keys of the log viewer. */
function logKey(s: MonitorState, key: KeyName): Step {
  const log = s.log;
  if (!log) return ok({ ...s, view: 'list' });
  const c = charOf(key);
  const page = bodyHeight(s.size);
  const maxTop = Math.max(0, log.buffer.length - page);
  const scroll = (top: number, follow = false) =>
    ok({ ...s, log: { ...log, top: Math.max(0, Math.min(top, maxTop)), follow } });
  if (c === 'q' || key === 'escape' || key === 'backspace') return closeLog(s);
  if (key === 'down' || c === 'j') return scroll(log.top + 1);
  if (key === 'up' || c === 'k') return scroll(log.top - 1);
  if (key === 'pagedown' || key === 'ctrl-f' || key === 'ctrl-d' || c === ' ')
    return scroll(log.top + page);
  if (key === 'pageup' || key === 'ctrl-b' || key === 'ctrl-u') return scroll(log.top - page);
  if (key === 'home' || c === 'g') return scroll(0);
  if (key === 'end' || c === 'G' || c === 'f') return scroll(maxTop, true);
  if (key === 'right') return ok({ ...s, log: { ...log, left: log.left + 8 } });
  if (key === 'left') return ok({ ...s, log: { ...log, left: Math.max(0, log.left - 8) } });
  if (c === '/') return ok({ ...s, prompt: { kind: 'search', text: log.search ?? '' } });
  if (c === 'n' || c === 'N') {
    if (!log.search) return info(s, 'no search yet: press / to search', 'error');
    const from = (log.match ?? log.top) + (c === 'n' ? 1 : -1);
    return jumpToMatch(s, log.search, from, c === 'n' ? 1 : -1);
  }
  const task = s.tasks.find((t) => t.id === log.taskId) ?? null;
  if (c === 'c') return act(s, 'cancel', task);
  if (c === 'p') return act(s, 'priority', task);
  return ok(s);
}

function jumpToMatch(s: MonitorState, pattern: string, from: number, dir: 1 | -1): Step {
  const log = s.log!;
  const i = log.buffer.find(pattern, from, dir);
  if (i === null) {
    return ok({
      ...s,
      log: { ...log, search: pattern, match: null },
      message: { text: `not found: ${pattern}`, kind: 'error' },
    });
  }
  const page = bodyHeight(s.size);
  const maxTop = Math.max(0, log.buffer.length - page);
  const top = i >= log.top && i < log.top + page ? log.top : Math.min(maxTop, Math.max(0, i - 2));
  return ok({ ...s, log: { ...log, search: pattern, match: i, top, follow: false } });
}

function applyFilter(s: MonitorState, text: string): Step {
  const parsed = parseFilter(text);
  if (parsed.error) return info({ ...s, prompt: { kind: 'filter', text } }, parsed.error, 'error');
  const before = parseFilter(s.filter);
  if (sameQuery(parsed.server, before.server)) {
    return settle({ ...s, filter: text.trim(), prompt: null, cursor: 0, top: 0, selectedId: null });
  }
  return ok(
    {
      ...s,
      filter: text.trim(),
      prompt: null,
      generation: s.generation + 1,
      tasks: [],
      hasMore: false,
      loadingMore: false,
      cursor: 0,
      top: 0,
      selectedId: null,
    },
    { type: 'refresh' },
  );
}

/** Keys while a prompt is open. */
function promptKey(s: MonitorState, key: KeyName): Step {
  const p = s.prompt!;
  const c = charOf(key);
  if (key === 'escape' || key === 'ctrl-c') return ok({ ...s, prompt: null });
  if (key === 'backspace') return ok({ ...s, prompt: { ...p, text: p.text.slice(0, -1) } });
  if (key === 'ctrl-u') return ok({ ...s, prompt: { ...p, text: '' } });
  if (c !== null) return ok({ ...s, prompt: { ...p, text: p.text + c } });
  if (key !== 'enter') return ok(s);
  if (p.kind === 'filter') return applyFilter(s, p.text);
  if (p.kind === 'search') {
    if (!s.log || p.text === '') return ok({ ...s, prompt: null });
    return jumpToMatch({ ...s, prompt: null }, p.text, s.log.top, 1);
  }
  const text = p.text.trim();
  const n = Number(text);
  if (!/^[-+]?\d+$/.test(text) || n < PRIORITY_RANGE[0] || n > PRIORITY_RANGE[1]) {
    return info(
      s,
      `priority must be a whole number from ${PRIORITY_RANGE[0]} to ${PRIORITY_RANGE[1]}`,
      'error',
    );
  }
  return ok(
    { ...s, prompt: null, message: { text: `setting priority ${n}...`, kind: 'info' } },
    { type: 'priority', taskId: p.taskId!, priority: n },
  );
}

function onKey(s0: MonitorState, key: KeyName): Step {
  if (key === 'ctrl-c') return ok(s0, { type: 'exit' });
  const s = s0.message ? { ...s0, message: null } : s0;
  if (s.confirm) {
    const yes = charOf(key) === 'y' || charOf(key) === 'Y';
    const { taskId } = s.confirm;
    if (!yes) return info({ ...s, confirm: null }, 'not cancelled');
    return ok(
      { ...s, confirm: null, message: { text: `cancelling ${taskId}...`, kind: 'info' } },
      { type: 'cancel', taskId },
    );
  }
  if (s.prompt) return promptKey(s, key);
  if (s.view === 'help') return ok({ ...s, view: s.back === 'help' ? 'list' : s.back });
  if (charOf(key) === '?') return ok({ ...s, view: 'help', back: s.view });
  if (s.view === 'logs') return logKey(s, key);
  return listKey(s, key);
}

function onLogText(s: MonitorState, taskId: string, text: string): Step {
  const log = s.log;
  if (!log || log.taskId !== taskId) return ok(s);
  log.buffer.append(text);
  const page = bodyHeight(s.size);
  const top = log.follow ? Math.max(0, log.buffer.length - page) : log.top;
  return ok({ ...s, log: { ...log, version: log.version + 1, top, problem: null } });
}

/** The reducer. */
export function reduce(s: MonitorState, a: Action): Step {
  switch (a.type) {
    case 'key':
      return onKey(s, a.key);
    case 'resize': {
      const next = settle({ ...s, size: a.size });
      if (next.state.log?.follow) {
        const log = next.state.log;
        const top = Math.max(0, log.buffer.length - bodyHeight(a.size));
        next.state = { ...next.state, log: { ...log, top } };
      }
      next.effects.push({ type: 'redraw' });
      return next;
    }
    case 'tick':
      return ok({ ...s, now: a.now });
    case 'tasks':
      return onTasks(s, a);
    case 'tasks-failed':
      if (a.generation !== s.generation) return ok(s);
      return ok({
        ...s,
        problem: a.message,
        loadingMore: a.mode === 'more' ? false : s.loadingMore,
      });
    case 'counts':
      return ok({ ...s, counts: a.counts });
    case 'done':
      return ok({ ...s, message: a.message }, ...(a.refresh ? [{ type: 'refresh' } as const] : []));
    case 'log-text':
      return onLogText(s, a.taskId, a.text);
    case 'log-end':
      if (!s.log || s.log.taskId !== a.taskId) return ok(s);
      return ok({ ...s, log: { ...s.log, ended: a.summary, problem: null } }, { type: 'refresh' });
    case 'log-problem':
      if (!s.log || s.log.taskId !== a.taskId) return ok(s);
      return ok({ ...s, log: { ...s.log, problem: a.problem } });
  }
}
