/**
 * @module cli/monitor/views/frame
 * A whole screen for a state: title bar, the current view's body, status line and key hints,
 * exactly `rows - 1` lines of exactly `columns` characters (one row short of the terminal, so Ink
 * redraws lines in place instead of clearing the screen on every frame).
 */
import type { Line } from '../layout.ts';
import { MIN_COLUMNS, MIN_ROWS, screen } from '../layout.ts';
import type { MonitorState } from '../types.ts';
import { hintLine, statusLine, titleLine } from './bars.ts';
import { detailsLines } from './details.ts';
import { helpLines } from './help.ts';
import { listLines } from './list.ts';
import { logLines } from './logs.ts';

/** The screen's lines. */
export function frameLines(s: MonitorState): Line[] {
  const { columns, rows } = s.size;
  const height = rows - 1;
  if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
    const note = `terminal too small: ${columns}x${rows} (need ${MIN_COLUMNS}x${MIN_ROWS}); q quits`;
    return screen([[{ text: note, role: 'error' }]], Math.max(1, columns), Math.max(1, height));
  }
  const body =
    s.view === 'details'
      ? detailsLines(s)
      : s.view === 'logs'
        ? logLines(s)
        : s.view === 'help'
          ? helpLines()
          : listLines(s);
  const top = [titleLine(s), ...screen(body, columns, height - 3)];
  return screen([...top, statusLine(s), hintLine(s)], columns, height);
}
