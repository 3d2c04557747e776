/**
 * @module cli/monitor/paint
 * The first frame, written straight to the terminal while Ink loads. Loading Ink, React and their
 * dependencies costs a few hundred milliseconds of module loading (es-toolkit alone brings ~400
 * files); the first frame does not need them: it is the same pure frame (cli/monitor/views/frame)
 * with the theme's styles turned into plain SGR codes. Ink then draws over it from the top-left
 * corner, line for line, and takes the keyboard (keys pressed in between wait in the terminal's
 * buffer, which raw mode keeps from being echoed).
 */
import type { Line } from './layout.ts';
import type { Style, Theme } from './theme.ts';

const FG: Record<string, number> = {
  black: 30,
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  white: 37,
  gray: 90,
};

/** The SGR escape for a style ('' for none). */
export function sgr(style: Style): string {
  const codes: number[] = [];
  if (style.bold) codes.push(1);
  if (style.dimColor) codes.push(2);
  if (style.inverse) codes.push(7);
  if (style.color && FG[style.color] !== undefined) codes.push(FG[style.color]!);
  if (style.backgroundColor && FG[style.backgroundColor] !== undefined) {
    codes.push(FG[style.backgroundColor]! + 10);
  }
  return codes.length === 0 ? '' : `\x1b[${codes.join(';')}m`;
}

/** A frame as terminal output: from the top-left corner, one styled line per row. */
export function paintFrame(lines: readonly Line[], theme: Theme): string {
  const rows = lines.map((l) =>
    l
      .map((span) => {
        const on = sgr(theme[span.role]);
        return on ? `${on}${span.text}\x1b[0m` : span.text;
      })
      .join(''),
  );
  // Home, hide the cursor, draw; then home again, where Ink starts its own first frame.
  return `\x1b[H\x1b[?25l${rows.join('\r\n')}\x1b[H`;
}
