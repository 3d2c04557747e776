/**
 * The monitor's reducer, log buffer, filter and views as pure functions: keys in, state and
 * effects out; frames as text.
 */
import { describe, expect, it } from 'vitest';

import { parseFilter } from './filter.ts';
import { keyNames } from './keys.ts';
import type { InkKey } from './keys.ts';
import { fit, plain } from './layout.ts';
import { cleanLine, LogBuffer } from './log-buffer.ts';
import { paintFrame, sgr } from './paint.ts';
import { bodyHeight, initialState, PAGE_SIZE, reduce, selectedTask, shownTasks } from './state.ts';
import { fakeTask, fakeTasks } from './test-tasks.ts';
import { pickTheme, themeOf } from './theme.ts';
import type { Action, Effect, KeyName, MonitorState, Task } from './types.ts';
import { frameLines } from './views/frame.ts';

const size = { columns: 100, rows: 20 };
const NOW = Date.UTC(2026, 0, 1, 1, 0, 0);

function loaded(tasks: Task[], limit = PAGE_SIZE): MonitorState {
  const s = initialState({ size, now: NOW, server: 'https://h:9101' });
  const withCounts = reduce(s, { type: 'counts', counts: { queued: tasks.length } }).state;
  return reduce(withCounts, { type: 'tasks', generation: 0, mode: 'head', tasks, limit, now: NOW })
    .state;
}

/** Applies actions; returns the last state and every effect asked for. */
function run(s0: MonitorState, ...actions: Action[]): { state: MonitorState; effects: Effect[] } {
  let state = s0;
  const effects: Effect[] = [];
  for (const a of actions) {
    const step = reduce(state, a);
    state = step.state;
    effects.push(...step.effects);
  }
  return { state, effects };
}

const k = (key: KeyName): Action => ({ type: 'key', key });
const ch = (chars: string): Action[] => [...chars].map((c) => k({ char: c }));
const text = (s: MonitorState) => frameLines(s).map(plain).join('\n');

describe('list navigation', () => {
  it('moves with j/k and arrows, pages, and jumps to the ends, keeping the cursor visible', () => {
    const s = loaded(fakeTasks(1, 50), 1000);
    expect(selectedTask(s)?.id).toBe(fakeTask(50).id);
    let r = run(s, ...ch('jj'), k('down'), k('up'));
    expect(r.state.cursor).toBe(2);
    r = run(r.state, k('pagedown'));
    expect(r.state.cursor).toBe(2 + bodyHeight(size));
    expect(r.state.top).toBeGreaterThan(0);
    expect(r.state.cursor - r.state.top).toBeLessThan(bodyHeight(size));
    r = run(r.state, ...ch('G'));
    expect(r.state.cursor).toBe(49);
    r = run(r.state, k('home'));
    expect(r.state).toMatchObject({ cursor: 0, top: 0 });
    r = run(r.state, ...ch('k'));
    expect(r.state.cursor).toBe(0);
  });

  it('keeps the selection on the same task when new tasks arrive at the top', () => {
    const s = run(loaded(fakeTasks(1, 10), 1000), ...ch('jjj')).state;
    const id = selectedTask(s)!.id;
    const next = reduce(s, {
      type: 'tasks',
      generation: 0,
      mode: 'head',
      tasks: fakeTasks(1, 12),
      limit: 1000,
      now: NOW,
    }).state;
    expect(selectedTask(next)!.id).toBe(id);
    expect(next.cursor).toBe(5);
  });

  it('asks for the next page near the end of what is loaded, once', () => {
    const s = loaded(fakeTasks(901, 1000), 100);
    expect(s.hasMore).toBe(true);
    const r = run(s, ...ch('G'), ...ch('k'));
    expect(r.effects).toEqual([{ type: 'load-more' }]);
    expect(r.state.loadingMore).toBe(true);
    const more = reduce(r.state, {
      type: 'tasks',
      generation: 0,
      mode: 'more',
      tasks: fakeTasks(801, 900),
      limit: 100,
      now: NOW,
    }).state;
    expect(more.tasks).toHaveLength(200);
    expect(more.loadingMore).toBe(false);
    expect(more.hasMore).toBe(true);
    const last = reduce(more, {
      type: 'tasks',
      generation: 0,
      mode: 'more',
      tasks: fakeTasks(780, 800),
      limit: 100,
      now: NOW,
    }).state;
    expect(last.hasMore).toBe(false);
  });

  it('a head refresh keeps older loaded pages after the refreshed ones', () => {
    const s = run(loaded(fakeTasks(901, 1000), 100), ...ch('G')).state;
    const withMore = reduce(s, {
      type: 'tasks',
      generation: 0,
      mode: 'more',
      tasks: fakeTasks(801, 900),
      limit: 100,
      now: NOW,
    }).state;
    const refreshed = reduce(withMore, {
      type: 'tasks',
      generation: 0,
      mode: 'head',
      tasks: fakeTasks(851, 1000).map((t) => ({ ...t, status: 'running' as const })),
      limit: 150,
      now: NOW,
    }).state;
    expect(refreshed.tasks).toHaveLength(200);
    expect(refreshed.tasks[0]!.status).toBe('running');
    expect(refreshed.tasks.at(-1)!.id).toBe(fakeTask(801).id);
  });

  it('drops answers to an older filter (generation)', () => {
    const s = run(loaded(fakeTasks(1, 5)), ...ch('/status:failed'), k('enter')).state;
    expect(s.generation).toBe(1);
    const stale = reduce(s, {
      type: 'tasks',
      generation: 0,
      mode: 'head',
      tasks: fakeTasks(1, 5),
      limit: 100,
      now: NOW,
    }).state;
    expect(stale.tasks).toEqual([]);
  });
});

describe('screens and actions', () => {
  it('enter shows details, q goes back, q again quits', () => {
    const s = loaded([fakeTask(1, { status: 'failed', exit_code: 3 })]);
    let r = run(s, k('enter'));
    expect(r.state.view).toBe('details');
    expect(text(r.state)).toContain('status        failed (exit 3)');
    r = run(r.state, ...ch('q'));
    expect(r.state.view).toBe('list');
    r = run(r.state, ...ch('q'));
    expect(r.effects).toEqual([{ type: 'exit' }]);
  });

  it('c asks y/N: y cancels, anything else does not', () => {
    const s = loaded([fakeTask(1)]);
    let r = run(s, ...ch('c'));
    expect(r.state.confirm).toMatchObject({ taskId: fakeTask(1).id });
    expect(text(r.state)).toContain(`cancel ${fakeTask(1).id} (exp-1)? y yes, any other key no`);
    r = run(r.state, ...ch('n'));
    expect(r.effects).toEqual([]);
    expect(r.state.message?.text).toBe('not cancelled');
    r = run(r.state, ...ch('cy'));
    expect(r.effects).toEqual([{ type: 'cancel', taskId: fakeTask(1).id }]);
  });

  it('c on a finished task says so and asks nothing', () => {
    const r = run(loaded([fakeTask(1, { status: 'completed' })]), ...ch('c'));
    expect(r.state.confirm).toBeNull();
    expect(r.state.message).toEqual({
      text: `${fakeTask(1).id} already completed`,
      kind: 'error',
    });
  });

  it('p prompts with the current priority; a bad number is refused, a good one sent', () => {
    const s = loaded([fakeTask(1, { priority: 4 })]);
    let r = run(s, ...ch('p'));
    expect(r.state.prompt).toMatchObject({ kind: 'priority', text: '4' });
    r = run(r.state, k('backspace'), ...ch('x'), k('enter'));
    expect(r.effects).toEqual([]);
    expect(r.state.message?.text).toBe('priority must be a whole number from -1000 to 1000');
    r = run(r.state, k('ctrl-u'), ...ch('-20'), k('enter'));
    expect(r.effects).toEqual([{ type: 'priority', taskId: fakeTask(1).id, priority: -20 }]);
    expect(r.state.prompt).toBeNull();
  });

  it('p on a running task explains that only queued tasks change priority', () => {
    const r = run(loaded([fakeTask(1, { status: 'running' })]), ...ch('p'));
    expect(r.state.prompt).toBeNull();
    expect(r.state.message?.text).toContain('priority can change only while a task is queued');
  });

  it('/ filters loaded tasks by words client-side and asks the server for status/user/name', () => {
    const s = loaded(fakeTasks(1, 20), 1000);
    let r = run(s, ...ch('/exp-1'), k('enter'));
    expect(r.effects).toEqual([]);
    expect(shownTasks(r.state).map((t) => t.name)).toEqual([
      'exp-19',
      'exp-18',
      'exp-17',
      'exp-16',
      'exp-15',
      'exp-14',
      'exp-13',
      'exp-12',
      'exp-11',
      'exp-10',
      'exp-1',
    ]);
    expect(text(r.state)).toContain('filter: exp-1');
    r = run(r.state, ...ch('/'), k('ctrl-u'), ...ch('status:running user:ana'), k('enter'));
    expect(r.effects).toEqual([{ type: 'refresh' }]);
    expect(r.state.tasks).toEqual([]);
    expect(parseFilter(r.state.filter).server).toEqual({ status: ['running'], user: 'ana' });
    r = run(r.state, k('escape'));
    expect(r.state.filter).toBe('');
    expect(r.effects.at(-1)).toEqual({ type: 'refresh' });
  });

  it('an unknown status in the filter is refused, naming the valid ones', () => {
    const r = run(loaded([fakeTask(1)]), ...ch('/status:lost'), k('enter'));
    expect(r.state.prompt?.kind).toBe('filter');
    expect(r.state.message?.text).toBe(
      'unknown status lost (queued, running, completed, failed, cancelled)',
    );
  });

  it('? shows help from any screen and any key returns', () => {
    let r = run(loaded([fakeTask(1)]), k('enter'), ...ch('?'));
    expect(r.state.view).toBe('help');
    expect(text(r.state)).toContain('change its priority');
    r = run(r.state, ...ch('x'));
    expect(r.state.view).toBe('details');
  });
});

describe('log viewer', () => {
  function withLog(lines: number): MonitorState {
    let r = run(loaded([fakeTask(1, { status: 'running' })]), ...ch('l'));
    expect(r.effects).toEqual([{ type: 'open-log', taskId: fakeTask(1).id }]);
    const chunk = Array.from({ length: lines }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    r = run(r.state, { type: 'log-text', taskId: fakeTask(1).id, text: chunk });
    return r.state;
  }

  it('follows the end, pauses on scroll, G follows again, q closes the stream', () => {
    const s = withLog(100);
    const page = bodyHeight(size);
    expect(s.log).toMatchObject({ follow: true, top: 100 - page });
    expect(text(s)).toContain('line 100');
    let r = run(s, ...ch('k'));
    expect(r.state.log).toMatchObject({ follow: false, top: 100 - page - 1 });
    r = run(r.state, { type: 'log-text', taskId: fakeTask(1).id, text: 'line 101\n' });
    expect(r.state.log?.top).toBe(100 - page - 1);
    r = run(r.state, ...ch('G'));
    expect(r.state.log).toMatchObject({ follow: true, top: 101 - page });
    r = run(r.state, ...ch('q'));
    expect(r.state.view).toBe('list');
    expect(r.effects).toEqual([{ type: 'close-log' }]);
  });

  it('searches with / and steps through matches with n and N', () => {
    let r = run(withLog(100), ...ch('/LINE 5'), k('enter'));
    expect(r.state.log).toMatchObject({ search: 'LINE 5', match: 4, follow: false });
    r = run(r.state, ...ch('n'));
    expect(r.state.log?.match).toBe(49);
    r = run(r.state, ...ch('N'));
    expect(r.state.log?.match).toBe(4);
    r = run(r.state, ...ch('/'), k('ctrl-u'), ...ch('nothing here'), k('enter'));
    expect(r.state.message?.text).toBe('not found: nothing here');
  });

  it('says when the task ended', () => {
    const r = run(withLog(3), {
      type: 'log-end',
      taskId: fakeTask(1).id,
      summary: 'completed (exit 0)',
    });
    expect(text(r.state)).toContain('task completed (exit 0)');
    expect(r.effects).toEqual([{ type: 'refresh' }]);
  });
});

describe('frames', () => {
  it('are exactly rows - 1 lines of exactly `columns` characters, ASCII only', () => {
    for (const sz of [
      { columns: 100, rows: 20 },
      { columns: 40, rows: 8 },
      { columns: 200, rows: 60 },
    ]) {
      const s = reduce(loaded(fakeTasks(1, 300), 1000), { type: 'resize', size: sz }).state;
      const lines = frameLines(s).map(plain);
      expect(lines).toHaveLength(sz.rows - 1);
      for (const l of lines) {
        expect(l).toHaveLength(sz.columns);
        expect(l).toMatch(/^[\x20-\x7e]*$/);
      }
    }
  });

  it('draw only the visible rows of a long list', () => {
    const s = loaded(fakeTasks(1, 10_000), 1000);
    const lines = frameLines(s).map(plain);
    const rows = lines.filter((l) => / exp-\d+/.test(l));
    expect(rows).toHaveLength(bodyHeight(size));
    expect(lines.join('\n')).toContain('task 1 of 10,000');
  });

  it('a too small terminal gets a note instead of a broken layout', () => {
    const s = reduce(loaded([fakeTask(1)]), {
      type: 'resize',
      size: { columns: 30, rows: 5 },
    }).state;
    expect(plain(frameLines(s)[0]!)).toContain('terminal too small: 30x5');
  });
});

describe('parts', () => {
  it('fit cuts with ~ and pads', () => {
    expect(fit('abcdef', 4)).toBe('abc~');
    expect(fit('ab', 4)).toBe('ab  ');
  });

  it('the log buffer keeps partial lines, strips escapes, applies \\r, caps its size', () => {
    const b = new LogBuffer(3);
    b.append('a\x1b[31mred\x1b[0m\nprogress 10%\rprogress 100%\nhalf');
    expect(b.slice(0, 10)).toEqual(['ared', 'progress 100%', 'half']);
    b.append(' done\nx\ny\n');
    expect(b.slice(0, 10)).toEqual(['half done', 'x', 'y']);
    expect(b.dropped).toBe(2);
    expect(cleanLine('a\tb')).toBe('a       b');
    expect(b.find('X', 0)).toBe(1);
  });

  it('keys: arrows, DEL as backspace, ctrl keys, pasted text as characters', () => {
    const none: InkKey = {
      upArrow: false,
      downArrow: false,
      leftArrow: false,
      rightArrow: false,
      pageUp: false,
      pageDown: false,
      return: false,
      escape: false,
      ctrl: false,
      backspace: false,
      delete: false,
      tab: false,
      meta: false,
    };
    expect(keyNames('', { ...none, upArrow: true })).toEqual(['up']);
    expect(keyNames('', { ...none, delete: true })).toEqual(['backspace']);
    expect(keyNames('c', { ...none, ctrl: true })).toEqual(['ctrl-c']);
    expect(keyNames('ab', none)).toEqual([{ char: 'a' }, { char: 'b' }]);
  });

  it('the pre-painted first frame is the same frame as SGR-styled text from the top-left', () => {
    expect(sgr({ bold: true, color: 'cyan' })).toBe('\x1b[1;36m');
    expect(sgr({ inverse: true, backgroundColor: 'yellow', color: 'black' })).toBe('\x1b[7;30;43m');
    expect(sgr({})).toBe('');
    const s = loaded([fakeTask(1)]);
    const out = paintFrame(frameLines(s), themeOf('none'));
    expect(out.startsWith('\x1b[H\x1b[?25l')).toBe(true);
    expect(out.endsWith('\x1b[H')).toBe(true);
    // eslint-disable-next-line no-control-regex
    const visible = out.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').split('\r\n');
    expect(visible).toEqual(frameLines(s).map(plain));
  });

  it('themes: NO_COLOR and TERM=dumb mean none; a flag wins', () => {
    expect(pickTheme(undefined, {})).toBe('dark');
    expect(pickTheme(undefined, { NO_COLOR: '1' })).toBe('none');
    expect(pickTheme(undefined, { TERM: 'dumb' })).toBe('none');
    expect(pickTheme('light', { NO_COLOR: '1' })).toBe('light');
  });
});
