/**
 * Progress bars and phase lines (cli/shared/progress) and `--quiet` (cli/shared/quiet): what a
 * terminal, a pipe and a quiet or JSON run each see, with time driven by the test.
 */
import { describe, expect, it } from 'vitest';

import { memorySink } from './output.ts';
import type { PhaseTimers } from './progress.ts';
import { createProgress, formatBar, progressMode, startPhase } from './progress.ts';
import { keptWhenQuiet, quietable } from './quiet.ts';

/** Timers the test fires by hand. */
function manualTimers(): PhaseTimers & { fire(): void; active: number } {
  const fns = new Map<number, () => void>();
  let next = 0;
  return {
    setInterval(fn) {
      fns.set(++next, fn);
      return next;
    },
    clearInterval(h) {
      fns.delete(h as number);
    },
    fire() {
      for (const fn of fns.values()) fn();
    },
    get active() {
      return fns.size;
    },
  };
}

describe('formatBar', () => {
  it('is a fixed-width ASCII bar with a percentage, clamped to 0..100%', () => {
    expect(formatBar(0, 10)).toBe('[----------]   0%');
    expect(formatBar(0.5, 10)).toBe('[#####-----]  50%');
    expect(formatBar(1, 10)).toBe('[##########] 100%');
    expect(formatBar(7, 10)).toBe('[##########] 100%');
    expect(formatBar(Number.NaN, 10)).toBe('[----------]   0%');
  });
});

describe('createProgress', () => {
  it('takes a label and a unit (export and dataset upload count other things)', () => {
    const sink = memorySink();
    let t = 0;
    const p = createProgress(sink, 'plain', { blobs: 3, bytes: 300 }, () => t, {
      label: 'exporting',
      unit: 'tasks',
    });
    t = 5000;
    p.update({ blobs: 3, bytes: 300 });
    expect(sink.text()).toBe('exporting: 3/3 tasks, 300 B/300 B, 60 B/s\n');
    expect(sink.text()).not.toContain('\r');
  });
});

describe('startPhase', () => {
  it('redraws `label... detail (elapsed)` in place on a terminal and clears it when done', () => {
    const sink = memorySink();
    const timers = manualTimers();
    let t = 0;
    const phase = startPhase(sink, 'tty', 'scanning /p', () => t, timers);
    t = 1500;
    phase.detail('120 files');
    timers.fire();
    phase.done();
    expect(sink.text()).toBe('\r\x1b[2Kscanning /p... 120 files (1.5s)\r\x1b[2K');
    expect(timers.active).toBe(0);
  });

  it('prints nothing for a quick phase; whole lines (no \\r) for a long one in a pipe', () => {
    const quick = memorySink();
    const timers = manualTimers();
    startPhase(quick, 'plain', 'scanning', () => 0, timers).done();
    expect(quick.text()).toBe('');

    const slow = memorySink();
    let t = 0;
    const phase = startPhase(slow, 'plain', 'scanning', () => t, timers);
    t = 2000;
    timers.fire();
    t = 4000;
    timers.fire();
    phase.done();
    expect(slow.text()).toBe('scanning... (2.0s)\nscanning... (4.0s)\n');
  });

  it('shows nothing and starts no timer in none mode', () => {
    const sink = memorySink();
    const timers = manualTimers();
    const phase = startPhase(sink, 'none', 'scanning', () => 0, timers);
    expect(timers.active).toBe(0);
    phase.done();
    expect(sink.text()).toBe('');
  });
});

describe('--quiet', () => {
  it('a quiet sink keeps errors and warnings only, and progress turns itself off', () => {
    const inner = Object.assign(memorySink(), { isTTY: true, columns: 80 });
    const sink = quietable(inner);
    expect(progressMode(sink, false)).toBe('tty');
    expect(sink.isTTY).toBe(true);
    expect(sink.columns).toBe(80);
    sink.quiet = true;
    expect(progressMode(sink, false)).toBe('none');
    sink.write('commit abc\n');
    sink.write('[ml] task_1 running\n');
    sink.write('warning: a.sock: socket left out\n');
    sink.write('error: no such task\n');
    expect(inner.text()).toBe('warning: a.sock: socket left out\nerror: no such task\n');
    expect(keptWhenQuiet('This is a bug in fetchml; please report it\n')).toBe(true);
    expect(keptWhenQuiet('errors: 3\n')).toBe(false);
  });

  it('is plain without a terminal and none with --json', () => {
    expect(progressMode(memorySink(), false)).toBe('plain');
    expect(progressMode(Object.assign(memorySink(), { isTTY: true }), true)).toBe('none');
  });
});
