/**
 * @module cli/monitor/views/list
 * The job list: a column header and one row per task, drawing only the rows that fit on the
 * screen (the list is virtualised: 10,000 loaded tasks cost as much to draw as 30).
 */
import { elapsedMs, formatDuration } from '../../shared/format.ts';
import type { Line } from '../layout.ts';
import { fit, fitRight } from '../layout.ts';
import { bodyHeight, shownTasks } from '../state.ts';
import type { MonitorState, Task } from '../types.ts';

/** Column widths for a terminal `columns` wide (USER and AGE go first when it is narrow). */
export function columnsFor(columns: number): {
  id: number;
  status: number;
  pri: number;
  name: number;
  user: number;
  age: number;
} {
  const fixed = { id: 12, status: 9, pri: 5 };
  const age = columns >= 50 ? 8 : 0;
  const user = columns >= 70 ? 10 : 0;
  const used =
    2 +
    fixed.id +
    1 +
    fixed.status +
    1 +
    fixed.pri +
    1 +
    (age ? age + 1 : 0) +
    (user ? user + 1 : 0);
  return { ...fixed, user, age, name: Math.max(4, columns - used) };
}

/** How long a task has been waiting, running, or ran. */
export function taskAge(t: Task, now: number): string {
  if (t.status === 'queued') return formatDuration(elapsedMs(t.queued_at, null, now) ?? NaN);
  if (t.status === 'running') return formatDuration(elapsedMs(t.started_at, null, now) ?? NaN);
  const ran = elapsedMs(t.started_at, t.ended_at, now);
  return ran === null ? '-' : formatDuration(ran);
}

/** One row. */
export function taskRow(t: Task, selected: boolean, columns: number, now: number): Line {
  const w = columnsFor(columns);
  const id = fit(t.id.replace(/^task_/, '').slice(0, 12), w.id);
  const cells = [
    `${selected ? '>' : ' '} ${id} `,
    fit(t.status, w.status),
    ` ${fitRight(String(t.priority), w.pri)} `,
    w.age ? `${fitRight(taskAge(t, now), w.age)} ` : '',
    w.user ? `${fit(t.user, w.user)} ` : '',
    fit(t.cancel_requested && t.status === 'running' ? `${t.name} (stopping)` : t.name, w.name),
  ];
  if (selected) return [{ text: cells.join(''), role: 'selected' }];
  return [
    { text: cells[0]!, role: 'normal' },
    { text: cells[1]!, role: t.status },
    { text: cells.slice(2).join(''), role: 'normal' },
  ];
}

/** The column titles. */
export function headerRow(columns: number): Line {
  const w = columnsFor(columns);
  const text = [
    `  ${fit('ID', w.id)} `,
    fit('STATUS', w.status),
    ` ${fitRight('PRI', w.pri)} `,
    w.age ? `${fitRight('AGE', w.age)} ` : '',
    w.user ? `${fit('USER', w.user)} ` : '',
    fit('NAME', w.name),
  ].join('');
  return [{ text, role: 'header' }];
}

/** The list body: column titles, then the visible rows only. */
export function listLines(s: MonitorState): Line[] {
  const shown = shownTasks(s);
  const height = bodyHeight(s.size);
  const out: Line[] = [headerRow(s.size.columns)];
  const end = Math.min(shown.length, s.top + height);
  for (let i = s.top; i < end; i++) {
    out.push(taskRow(shown[i]!, i === s.cursor, s.size.columns, s.now));
  }
  if (shown.length === 0) {
    out.push([
      {
        text:
          s.lastRefresh === null
            ? '  loading...'
            : s.filter
              ? '  no task matches the filter (esc clears it)'
              : '  no tasks yet: queue one with `ml queue`',
        role: 'dim',
      },
    ]);
  }
  return out;
}
