/**
 * @module cli/shared/progress
 * Upload progress on stderr (DESIGN.md: every long operation shows progress). On a terminal it is
 * one bar redrawn in place (bytes, files, rate), at most every {@link TTY_INTERVAL_MS}; when stderr
 * is a pipe or a file it is a plain line every {@link PLAIN_INTERVAL_MS}, so CI logs show life
 * without drowning; with `--json` it is silent (stdout carries one JSON document, stderr nothing).
 */
import { formatBytes } from '../../core/units.ts';
import { formatRate } from './format.ts';
import type { TextSink } from './output.ts';

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

/** The mode for a sink: `none` with --json, `tty` when the sink is a terminal, else `plain`. */
export function progressMode(sink: TextSink, json: boolean | undefined): ProgressMode {
  if (json) return 'none';
  return (sink as { isTTY?: boolean }).isTTY ? 'tty' : 'plain';
}

/** A progress display for uploading `total` to `sink`. */
export function createProgress(
  sink: TextSink,
  mode: ProgressMode,
  total: ProgressState,
  now: () => number,
  label = 'uploading',
): Progress {
  const started = now();
  let last = -Infinity;
  let state: ProgressState = { blobs: 0, bytes: 0 };
  let drawn = false;
  const line = () => {
    const files = `${state.blobs}/${total.blobs} files`;
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
      const fill = Math.round(Math.min(1, frac) * BAR_WIDTH);
      const bar = `${'#'.repeat(fill)}${'-'.repeat(BAR_WIDTH - fill)}`;
      const pct = `${Math.floor(Math.min(1, frac) * 100)}%`.padStart(4);
      sink.write(`\r\x1b[2K${label} [${bar}] ${pct}  ${bytes}  ${files}  ${rate}`);
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
