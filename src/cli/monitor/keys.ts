/**
 * @module cli/monitor/keys
 * From what Ink's `useInput` reports to a {@link KeyName}: arrows, paging, enter, escape and a few
 * control keys by name, any other printable input as characters. Works with what every terminal
 * sends over SSH (no mouse, no keyboard protocol extensions needed); `j`/`k` and the arrows mean
 * the same.
 */
import type { KeyName } from './types.ts';

/** The subset of Ink's `Key` the monitor reads. */
export interface InkKey {
  upArrow: boolean;
  downArrow: boolean;
  leftArrow: boolean;
  rightArrow: boolean;
  pageUp: boolean;
  pageDown: boolean;
  home?: boolean;
  end?: boolean;
  return: boolean;
  escape: boolean;
  ctrl: boolean;
  backspace: boolean;
  delete: boolean;
  tab: boolean;
  meta: boolean;
}

/** Names a key press; a paste of several characters becomes one key per character. */
export function keyNames(input: string, key: InkKey): KeyName[] {
  if (key.upArrow) return ['up'];
  if (key.downArrow) return ['down'];
  if (key.leftArrow) return ['left'];
  if (key.rightArrow) return ['right'];
  if (key.pageUp) return ['pageup'];
  if (key.pageDown) return ['pagedown'];
  if (key.home) return ['home'];
  if (key.end) return ['end'];
  if (key.return) return ['enter'];
  if (key.escape) return ['escape'];
  if (key.tab) return ['tab'];
  // Terminals send DEL (0x7f) for the Backspace key; Ink reports it as `delete`.
  if (key.backspace || key.delete) return ['backspace'];
  if (key.ctrl) {
    const c = input.toLowerCase();
    if (c === 'c') return ['ctrl-c'];
    if (c === 'u') return ['ctrl-u'];
    if (c === 'd') return ['ctrl-d'];
    if (c === 'f') return ['ctrl-f'];
    if (c === 'b') return ['ctrl-b'];
    if (c === 'l') return ['ctrl-l'];
    return [];
  }
  if (key.meta) return [];
  // eslint-disable-next-line no-control-regex
  return [...input].filter((ch) => !/[\x00-\x1f\x7f]/.test(ch)).map((char) => ({ char }));
}

/** The character of a printable key, or null for a named key. */
export function charOf(key: KeyName): string | null {
  return typeof key === 'object' ? key.char : null;
}
