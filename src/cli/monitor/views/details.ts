/**
 * @module cli/monitor/views/details
 * The job details screen: everything the task record says, one field per line.
 */
import { elapsedMs, formatDuration } from '../../shared/format.ts';
import type { Line } from '../layout.ts';
import { selectedTask } from '../state.ts';
import type { MonitorState, Task } from '../types.ts';

function field(label: string, value: string, role: Line[number]['role'] = 'normal'): Line {
  return [
    { text: `  ${label.padEnd(14)}`, role: 'dim' },
    { text: value, role },
  ];
}

const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

/** The lines describing `t`. */
export function detailLines(t: Task, now: number): Line[] {
  const ran = elapsedMs(t.started_at, t.ended_at, now);
  const waited = elapsedMs(t.queued_at, t.started_at, now);
  const outcome =
    t.exit_code !== null
      ? ` (exit ${t.exit_code})`
      : t.cancel_requested && t.status === 'running'
        ? ' (stopping)'
        : '';
  const r = t.resources;
  const lines: Line[] = [
    [{ text: `  ${t.name}`, role: 'header' }],
    field('id', t.id),
    field('status', `${t.status}${outcome}`, t.status),
  ];
  if (t.error) lines.push(field('error', `${t.error.code}: ${t.error.message}`, 'error'));
  lines.push(
    field('user', t.user),
    field('priority', String(t.priority)),
    field('attempt', `${t.attempt} of ${t.max_attempts}`),
    field('worker', t.worker_id ?? '-'),
    field('resources', `${r.cpus} cpus, ${r.memory_mb} MiB, ${r.gpus} gpus`),
    field('kind', t.kind),
    field('trust', `${t.trust_level} (${t.repro_policy})`),
    field('command', [...t.plan.command, ...t.plan.args].join(' ')),
    field('image', t.plan.image.base ?? '(host runtime)'),
    field('commit', t.commit_id),
    field('plan sha256', t.plan_sha256),
    field('created', when(t.created_at)),
    field('started', when(t.started_at)),
    field('ended', when(t.ended_at)),
    field('waited', waited === null ? '-' : formatDuration(waited)),
    field('ran', ran === null ? '-' : formatDuration(ran)),
  );
  if (t.labels.length > 0) lines.push(field('labels', t.labels.join(', ')));
  return lines;
}

/** The details screen body. */
export function detailsLines(s: MonitorState): Line[] {
  const t = selectedTask(s);
  return t ? detailLines(t, s.now) : [[{ text: '  no task selected', role: 'dim' }]];
}
