/**
 * @module cli/monitor/views/logs
 * The log viewer: a title naming the task, then the visible slice of the scrollback (shifted
 * sideways with Left/Right), matches of the search highlighted.
 */
import type { Line } from '../layout.ts';
import { bodyHeight } from '../state.ts';
import type { MonitorState } from '../types.ts';

/** Splits `text` into spans, marking case-insensitive occurrences of `pattern`. */
export function highlight(text: string, pattern: string | null): Line {
  if (!pattern) return [{ text, role: 'normal' }];
  const lower = text.toLowerCase();
  const needle = pattern.toLowerCase();
  const out: Line = [];
  let at = 0;
  for (;;) {
    const i = lower.indexOf(needle, at);
    if (i === -1) break;
    if (i > at) out.push({ text: text.slice(at, i), role: 'normal' });
    out.push({ text: text.slice(i, i + needle.length), role: 'match' });
    at = i + needle.length;
  }
  if (at < text.length) out.push({ text: text.slice(at), role: 'normal' });
  return out;
}

/** The log screen body: title line, then lines. */
export function logLines(s: MonitorState): Line[] {
  const log = s.log;
  if (!log) return [];
  const task = s.tasks.find((t) => t.id === log.taskId);
  const title: Line = [
    { text: ` logs of ${log.taskId}`, role: 'header' },
    { text: task ? `  ${task.name}  ` : '  ', role: 'dim' },
    { text: task?.status ?? '', role: task?.status ?? 'dim' },
  ];
  const height = bodyHeight(s.size);
  const out: Line[] = [title];
  const lines = log.buffer.slice(log.top, log.top + height);
  for (const text of lines) out.push(highlight(text.slice(log.left), log.search));
  if (log.buffer.length === 0) {
    out.push([
      {
        text: log.ended ? '  (the task wrote no log)' : '  waiting for log lines...',
        role: 'dim',
      },
    ]);
  }
  return out;
}
