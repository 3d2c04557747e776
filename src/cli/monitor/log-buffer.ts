/**
 * @module cli/monitor/log-buffer
 * The log viewer's scrollback: text arrives in chunks that may end mid-line; it is split into
 * lines made safe for any terminal (escape sequences removed, tabs expanded, a carriage return
 * keeps what was drawn last — a progress bar shows its final state) and kept up to a cap (the
 * oldest lines go first, counted in {@link LogBuffer.dropped}). Search is a case-insensitive
 * substring match.
 *
 * It is the one mutable piece of the monitor's state: appending to a copied array on every chunk
 * would cost O(lines) per chunk; the reducer bumps a version number instead.
 */

/** Lines kept by default (older ones are dropped). */
export const MAX_LOG_LINES = 50_000;

// CSI / OSC / two-character escape sequences, then any other C0 control but \t and \r.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]/g;

/** One raw line made printable: what a terminal would finally show, ASCII controls removed. */
export function cleanLine(raw: string): string {
  let line = raw.replace(ESCAPES, '');
  const cr = line.lastIndexOf('\r', line.length - 2);
  if (cr !== -1) line = line.slice(cr + 1);
  line = line.replace(/\r$/, '').replace(CONTROLS, '');
  if (!line.includes('\t')) return line;
  let out = '';
  for (const ch of line) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
  return out;
}

export class LogBuffer {
  readonly #max: number;
  #lines: string[] = [];
  #partial = '';
  #dropped = 0;

  constructor(max = MAX_LOG_LINES) {
    this.#max = max;
  }

  /** Appends a chunk of log text. */
  append(text: string): void {
    const parts = (this.#partial + text).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const p of parts) this.#lines.push(cleanLine(p));
    if (this.#lines.length > this.#max) {
      const extra = this.#lines.length - this.#max;
      this.#lines.splice(0, extra);
      this.#dropped += extra;
    }
  }

  /** Lines so far, with the unfinished last line (if any) at the end. */
  get length(): number {
    return this.#lines.length + (this.#partial === '' ? 0 : 1);
  }

  /** Lines dropped from the start to stay under the cap. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Line `i` (0-based, among the kept ones), or '' past the end. */
  line(i: number): string {
    if (i < this.#lines.length) return this.#lines[i] ?? '';
    return i === this.#lines.length ? cleanLine(this.#partial) : '';
  }

  /** Lines [from, to). */
  slice(from: number, to: number): string[] {
    const out: string[] = [];
    for (let i = Math.max(0, from); i < Math.min(to, this.length); i++) out.push(this.line(i));
    return out;
  }

  /**
   * The index of the next line containing `pattern` (case-insensitive), searching from `from`
   * in `direction` and wrapping around; null when no line matches.
   */
  find(pattern: string, from: number, direction: 1 | -1 = 1): number | null {
    const n = this.length;
    if (n === 0 || pattern === '') return null;
    const needle = pattern.toLowerCase();
    const start = ((from % n) + n) % n;
    for (let k = 0; k < n; k++) {
      const i = (((start + direction * k) % n) + n) % n;
      if (this.line(i).toLowerCase().includes(needle)) return i;
    }
    return null;
  }
}
