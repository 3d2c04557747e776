/**
 * @module cli/monitor/views/help
 * The help screen (`?`): every key, by screen.
 */
import type { Line } from '../layout.ts';

const SECTIONS: Array<[string, Array<[string, string]>]> = [
  [
    'job list',
    [
      ['j / k, Down / Up', 'move the selection'],
      ['PgDn / PgUp, Ctrl-F / Ctrl-B', 'a page down / up'],
      ['g / G, Home / End', 'first / last task'],
      ['Enter', 'details of the selected task'],
      ['l', 'its log, live'],
      ['c', 'cancel it (asks y/N)'],
      ['p', 'change its priority (queued tasks, if your role may)'],
      ['/', 'filter: status:running user:ana name:x, other words match id/name/user'],
      ['Esc', 'clear the filter'],
      ['r', 'refresh now'],
      ['q, Ctrl-C', 'quit'],
    ],
  ],
  [
    'log viewer',
    [
      ['j / k, PgDn / PgUp', 'scroll (stops following)'],
      ['G, f, End', 'follow the end'],
      ['g, Home', 'the first line'],
      ['Left / Right', 'shift sideways'],
      ['/, n / N', 'search, next / previous match'],
      ['q, Esc', 'back'],
    ],
  ],
];

/** The help screen body. */
export function helpLines(): Line[] {
  const out: Line[] = [];
  for (const [title, keys] of SECTIONS) {
    out.push([{ text: ` ${title}`, role: 'header' }]);
    for (const [key, what] of keys) {
      out.push([
        { text: `   ${key.padEnd(30)}`, role: 'key' },
        { text: what, role: 'normal' },
      ]);
    }
    out.push([]);
  }
  out.push([{ text: ' any key returns', role: 'dim' }]);
  return out;
}
