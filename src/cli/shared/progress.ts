/**
 * @module cli/shared/progress
 * Progress on stderr (DESIGN.md: every long operation shows progress): a bar for work with a known
 * total ({@link createProgress}: upload, export, dataset upload) and a phase line for work without
 * one ({@link startPhase}: scanning the tree, asking the server what it lacks).
 *
 * How it is shown depends on where stderr goes ({@link progressMode}):
 * - `tty`: one line redrawn in place (`\r` + erase line), at most every {@link TTY_INTERVAL_MS},
 *   cleared when done, so the terminal keeps only the command's own output;
 * - `plain` (a pipe, a file, CI): no `\r` and no escapes, a whole line at most every
 *   {@link PLAIN_INTERVAL_MS} — a short operation prints nothing, a long one shows life without
 *   drowning the log;
 * - `none`: with `--json` (stdout carries one JSON document, stderr nothing) or `--quiet`.
 */
import { formatBytes } from '../../core/units.ts';
import { formatDuration, formatRate } from './format.ts';
import type { TextSink } from './output.ts';
import { isQuiet } from './quiet.ts';

export const TTY_INTERVAL_MS = 100;
export const PLAIN_INTERVAL_MS = 2000;
const BAR_WIDTH = 24;

/** Totals to reach and done so far. */
export interface ProgressState {
  blobs: number;
  bytes: number;
}

/** A progress display; {@link done} clears or finishes it. */
export interface Progress {
  update(done: ProgressState): void;
  done(): void;
}

/** How progress is shown: `tty` bar, `plain` lines, or `none`. */
export type ProgressMode = 'tty' | 'plain' | 'none';

/**
 * The mode for a sink: `none` with --json or when the sink is quiet (`ml --quiet`), `tty` when
 * the sink is a terminal, else `plain`.
 */
export function progressMode(sink: TextSink, json: boolean | undefined): ProgressMode {
  if (json || isQuiet(sink)) return 'none';
  return (sink as { isTTY?: boolean }).isTTY ? 'tty' : 'plain';
}

/** `[#######-----------------]  29%`: a fixed-width ASCII bar (readable in any terminal font). */
export function formatBar(fraction: number, width = BAR_WIDTH): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const fill = Math.round(f * width);
  const pct = `${Math.floor(f * 100)}%`.padStart(4);
  return `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${pct}`;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** What is being done, e.g. `uploading`. @default 'uploading' */
  label?: string;
  /** What {@link ProgressState.blobs} counts, e.g. `files`, `tasks`. @default 'files' */
  unit?: string;
}

/** A progress display for reaching `total` on `sink`. */
export function createProgress(
  sink: TextSink,
  mode: ProgressMode,
  total: ProgressState,
  now: () => number,
  options: ProgressOptions | string = {},
): Progress {
  const opts = typeof options === 'string' ? { label: options } : options;
  const label = opts.label ?? 'uploading';
  const unit = opts.unit ?? 'files';
  const started = now();
  // A terminal shows the bar at once; a log gets its first line only once the work has taken a
  // while, so a quick upload adds nothing to it.
  let last = mode === 'plain' ? started : -Infinity;
  let state: ProgressState = { blobs: 0, bytes: 0 };
  let drawn = false;
  const line = () => {
    const files = `${state.blobs}/${total.blobs} ${unit}`;
    const bytes = `${formatBytes(state.bytes)}/${formatBytes(total.bytes)}`;
    const rate = formatRate(state.bytes, now() - started);
    return { files, bytes, rate };
  };
  const draw = (force: boolean) => {
    if (mode === 'none') return;
    const t = now();
    if (!force && t - last < (mode === 'tty' ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS)) return;
    last = t;
    const { files, bytes, rate } = line();
    if (mode === 'tty') {
      const frac =
        total.bytes > 0
          ? state.bytes / total.bytes
          : total.blobs > 0
            ? state.blobs / total.blobs
            : 1;
      sink.write(`\r\x1b[2K${label} ${formatBar(frac)}  ${bytes}  ${files}  ${rate}`);
      drawn = true;
    } else {
      sink.write(`${label}: ${files}, ${bytes}, ${rate}\n`);
    }
  };
  return {
    update(done) {
      state = done;
      draw(false);
    },
    done() {
      if (mode === 'tty' && drawn) sink.write('\r\x1b[2K');
      else if (mode === 'plain' && state.blobs > 0 && now() - last >= PLAIN_INTERVAL_MS) draw(true);
    },
  };
}

/** A phase of unknown length; {@link done} ends it (clearing its line on a terminal). */
export interface Phase {
  /** Replaces the detail shown after the label (e.g. `1,204 files`). */
  detail(text: string): void;
  done(): void;
}

/** Timers the phase line uses (injectable so tests drive time). */
export interface PhaseTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const realTimers: PhaseTimers = {
  setInterval: (fn, ms) => {
    const h = setInterval(fn, ms);
    h.unref();
    return h;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/**
 * Shows `label… <elapsed>` while a phase of unknown length runs: redrawn on a terminal every
 * {@link TTY_INTERVAL_MS}; as a plain line every {@link PLAIN_INTERVAL_MS} once it has run that
 * long (a quick phase prints nothing); nothing in `none` mode.
 */
export function startPhase(
  sink: TextSink,
  mode: ProgressMode,
  label: string,
  now: () => number,
  timers: PhaseTimers = realTimers,
): Phase {
  const started = now();
  let detail = '';
  let drawn = false;
  const text = () =>
    `${label}...${detail ? ` ${detail}` : ''} (${formatDuration(now() - started)})`;
  const tick = () => {
    if (mode === 'tty') {
      sink.write(`\r\x1b[2K${text()}`);
      drawn = true;
    } else if (mode === 'plain') {
      sink.write(`${text()}\n`);
    }
  };
  const handle =
    mode === 'none'
      ? null
      : timers.setInterval(tick, mode === 'tty' ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS);
  return {
    detail(t) {
      detail = t;
    },
    done() {
      if (handle !== null) timers.clearInterval(handle);
      if (mode === 'tty' && drawn) sink.write('\r\x1b[2K');
    },
  };
}
