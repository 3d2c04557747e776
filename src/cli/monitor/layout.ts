/**
 * @module cli/monitor/layout
 * Text layout shared by the monitor's views: a screen is a list of lines, a line a list of spans,
 * a span some text with a role that the theme turns into colours. Everything here is plain ASCII
 * and pure, so views are tested as text, and a frame is exactly as wide and as tall as the
 * terminal (Ink only draws it).
 */

/** What a span means; the theme decides how it looks. */
export type Role =
  | 'normal'
  | 'title'
  | 'dim'
  | 'header'
  | 'selected'
  | 'key'
  | 'info'
  | 'error'
  | 'match'
  | 'queued'
  | 'running'
  | 'completed'
  | 'failed'
  | 'cancelled';

export interface Span {
  text: string;
  role: Role;
}

export type Line = Span[];

/** Fewest rows and columns the monitor draws in; smaller terminals get a note instead. */
export const MIN_ROWS = 8;
export const MIN_COLUMNS = 40;

/** `text` cut or padded to exactly `width` characters; a cut ends with `~`. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text.padEnd(width);
  return width === 1 ? '~' : `${text.slice(0, width - 1)}~`;
}

/** Right-aligned in `width`. */
export function fitRight(text: string, width: number): string {
  return text.length >= width ? fit(text, width) : text.padStart(width);
}

/** A line of one span. */
export function line(text: string, role: Role = 'normal'): Line {
  return [{ text, role }];
}

/** The line's text, without roles. */
export function plain(l: Line): string {
  return l.map((s) => s.text).join('');
}

/**
 * Pads or cuts a line to exactly `width` columns (the last span absorbs the padding), so every
 * row overwrites the previous frame's row completely.
 */
export function padLine(l: Line, width: number): Line {
  const out: Line = [];
  let used = 0;
  for (const s of l) {
    if (used >= width) break;
    const room = width - used;
    const text = s.text.length > room ? fit(s.text, room) : s.text;
    out.push({ text, role: s.role });
    used += text.length;
  }
  if (used < width) {
    const last = out.at(-1);
    if (last && (last.role === 'selected' || last.role === 'header')) {
      last.text += ' '.repeat(width - used);
    } else {
      out.push({ text: ' '.repeat(width - used), role: 'normal' });
    }
  }
  return out;
}

/** Exactly `height` lines, each exactly `width` wide (blank lines pad the end). */
export function screen(lines: readonly Line[], width: number, height: number): Line[] {
  const out = lines.slice(0, height).map((l) => padLine(l, width));
  while (out.length < height) out.push(padLine([], width));
  return out;
}

/** The first row to show so that `cursor` is visible in a window of `height` rows. */
export function scrollTop(cursor: number, top: number, height: number, count: number): number {
  if (height <= 0) return 0;
  let t = top;
  if (cursor < t) t = cursor;
  if (cursor >= t + height) t = cursor - height + 1;
  return Math.max(0, Math.min(t, Math.max(0, count - height)));
}

/** 12345 → `12,345` (without `toLocaleString`, whose first call loads ICU data: ~40 ms). */
export function thousands(n: number): string {
  const digits = String(Math.abs(Math.round(n)));
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}
