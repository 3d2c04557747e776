/**
 * @module cli/monitor/views/bars
 * The lines around every screen: the title bar (server, tasks per status) and the two bottom
 * lines — the status line (position, filter, freshness, or the open prompt, confirmation or
 * message) and the key hints of the screen.
 */
import { formatDuration } from '../../shared/format.ts';
import { TASK_STATUS_NAMES } from '../filter.ts';
import type { Line, Role } from '../layout.ts';
import { thousands } from '../layout.ts';
import { shownTasks } from '../state.ts';
import type { MonitorState } from '../types.ts';

/** A list older than this says so in the status line. */
export const STALE_MS = 5000;

/** `fetchml monitor  https://host:9101  3 queued  1 running  ...` */
export function titleLine(s: MonitorState): Line {
  const out: Line = [
    { text: ' fetchml monitor ', role: 'title' },
    { text: ` ${s.server} `, role: 'dim' },
  ];
  if (s.counts) {
    for (const st of TASK_STATUS_NAMES) {
      out.push({ text: ` ${thousands(s.counts[st] ?? 0)} `, role: st });
      out.push({ text: `${st} `, role: 'dim' });
    }
  }
  return out;
}

/** How many tasks the server holds for the current server-side filter, when known. */
export function totalTasks(s: MonitorState): number | null {
  if (!s.counts) return null;
  const filter = s.filter;
  if (/\b(user|u|name|n):/i.test(filter)) return null;
  const m = /\b(?:status|s):(\S+)/i.exec(filter);
  const statuses = m ? m[1]!.toLowerCase().split(',') : [...TASK_STATUS_NAMES];
  return statuses.reduce((n, st) => n + (s.counts?.[st] ?? 0), 0);
}

function positionLine(s: MonitorState): Line {
  const shown = shownTasks(s);
  const parts: string[] = [];
  const total = totalTasks(s);
  const words = s.filter.split(/\s+/).filter((w) => w && !w.includes(':'));
  if (shown.length === 0) {
    parts.push(s.lastRefresh === null ? 'loading...' : 'no tasks');
  } else if (words.length > 0) {
    parts.push(`task ${thousands(s.cursor + 1)} of ${thousands(shown.length)} matching`);
    parts.push(`${thousands(s.tasks.length)} loaded${s.hasMore ? ', more on the server' : ''}`);
  } else {
    const of = total !== null && !s.hasMore ? shown.length : (total ?? shown.length);
    parts.push(`task ${thousands(s.cursor + 1)} of ${thousands(Math.max(of, shown.length))}`);
    if (s.hasMore) parts.push(`${thousands(s.tasks.length)} loaded`);
  }
  if (s.filter) parts.push(`filter: ${s.filter}`);
  if (s.loadingMore) parts.push('loading more...');
  // Only a stale list says how old it is (a refresh failed, or the server is slow).
  if (s.lastRefresh !== null && s.now - s.lastRefresh >= STALE_MS)
    parts.push(`updated ${formatDuration(s.now - s.lastRefresh)} ago`);
  const out: Line = [{ text: ` ${parts.join(' | ')}`, role: 'dim' }];
  if (s.problem) out.push({ text: ` | ${s.problem} (retrying)`, role: 'error' });
  return out;
}

/** The status line: prompt, confirmation, message or position. */
export function statusLine(s: MonitorState): Line {
  if (s.prompt) {
    const label =
      s.prompt.kind === 'filter'
        ? 'filter (status:running user:ana name:x, words match id/name/user): '
        : s.prompt.kind === 'search'
          ? 'search: '
          : `priority for ${s.prompt.taskId} (-1000..1000): `;
    return [
      { text: ` ${label}`, role: 'key' },
      { text: `${s.prompt.text}_`, role: 'normal' },
      { text: '   enter ok, esc cancel', role: 'dim' },
    ];
  }
  if (s.confirm) {
    return [
      { text: ` cancel ${s.confirm.taskId} (${s.confirm.name})? `, role: 'error' },
      { text: 'y', role: 'key' },
      { text: ' yes, any other key no', role: 'dim' },
    ];
  }
  if (s.message) {
    const role: Role = s.message.kind === 'error' ? 'error' : 'info';
    return [{ text: ` ${s.message.text}`, role }];
  }
  if (s.view === 'logs' && s.log) {
    const log = s.log;
    const parts = [
      log.follow ? 'following' : 'paused (G follows)',
      `lines ${thousands(Math.min(log.buffer.length, log.top + 1))}-${thousands(
        Math.min(log.buffer.length, log.top + Math.max(1, s.size.rows - 5)),
      )} of ${thousands(log.buffer.length)}`,
    ];
    if (log.buffer.dropped > 0) parts.push(`${thousands(log.buffer.dropped)} older dropped`);
    if (log.search) parts.push(`search: ${log.search}`);
    if (log.ended) parts.push(`task ${log.ended}`);
    const out: Line = [{ text: ` ${parts.join(' | ')}`, role: 'dim' }];
    if (log.problem) out.push({ text: ` | ${log.problem}`, role: 'error' });
    return out;
  }
  return positionLine(s);
}

const HINTS: Record<MonitorState['view'], Array<[string, string]>> = {
  list: [
    ['j/k', 'move'],
    ['enter', 'details'],
    ['l', 'logs'],
    ['c', 'cancel'],
    ['p', 'priority'],
    ['/', 'filter'],
    ['?', 'help'],
    ['q', 'quit'],
  ],
  details: [
    ['j/k', 'next/prev'],
    ['l', 'logs'],
    ['c', 'cancel'],
    ['p', 'priority'],
    ['q', 'back'],
    ['?', 'help'],
  ],
  logs: [
    ['j/k', 'scroll'],
    ['G', 'follow'],
    ['/', 'search'],
    ['n/N', 'next/prev'],
    ['q', 'back'],
    ['?', 'help'],
  ],
  help: [['any key', 'back']],
};

/** Key hints of the current screen. */
export function hintLine(s: MonitorState): Line {
  const out: Line = [];
  for (const [key, what] of HINTS[s.view]) {
    out.push({ text: ` ${key}`, role: 'key' });
    out.push({ text: ` ${what} `, role: 'dim' });
  }
  return out;
}
