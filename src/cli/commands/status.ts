/**
 * @module cli/commands/status
 * `ml status`: the queue at a glance from one request (`GET /v1/status`): the most relevant tasks
 * (running, then recent failures, then queued in claim order, then recent others), counts per
 * status, every worker with its phase, what it holds and its prewarm state, and the queue with
 * each waiting task's position and the reason it waits (computed by the server:
 * scheduler/waiting). `--status queued` lists the queue in claim order; `--all` and other
 * `--status` values add one `GET /v1/tasks`. Workers on the `process` runtime run jobs without
 * any isolation; status says so every time.
 *
 * `--json` prints the stable document described by `docs/status.schema.json` (core/schemas/status,
 * imported here for its types only: `ml status` loads no zod and no full API client, so it starts
 * about as fast as Node itself).
 */
import type { Command } from 'commander';

import type {
  QueuedTaskView,
  QueueView,
  StatusJson,
  StatusResponse,
  WaitReasonCode,
  WorkerView,
} from '../../core/schemas/status.ts';
import type { Task, TaskStatus } from '../../core/schemas/task.ts';
import { formatBytes } from '../../core/units.ts';
import { withLightClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CommandDeps } from '../shared/deps.ts';
import { elapsedMs, formatDuration, shortId } from '../shared/format.ts';
import { formatTable, writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';
import { choiceFlag, intFlag } from './flags.ts';

export type { StatusJson } from '../../core/schemas/status.ts';

const STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
/** How many relevant tasks status shows by default. */
const DEFAULT_LIMIT = 20;
/** Queued tasks listed under the summary (the rest: `--status queued`). */
const QUEUE_LINES = 5;

/** Options of {@link runStatus}. */
export interface StatusOptions {
  all?: boolean;
  status?: TaskStatus;
  limit?: number;
  json?: boolean;
  server?: string;
}

/** One table row for a task. */
export function taskRow(t: Task, now: number): string[] {
  const age = elapsedMs(t.created_at, null, now);
  const ran = elapsedMs(t.started_at, t.ended_at, now);
  return [
    shortId(t.id),
    t.name,
    t.status + (t.cancel_requested && t.status === 'running' ? ' (cancelling)' : ''),
    String(t.priority),
    `${t.attempt}/${t.max_attempts}`,
    age === null ? '-' : formatDuration(age),
    ran === null ? '-' : formatDuration(ran),
    t.exit_code === null ? '-' : String(t.exit_code),
  ];
}

/** The task table. */
export function formatTasks(tasks: readonly Task[], now: number): string {
  if (tasks.length === 0) return 'no tasks\n';
  return formatTable(
    ['ID', 'NAME', 'STATUS', 'PRIO', 'ATTEMPT', 'AGE', 'DURATION', 'EXIT'],
    tasks.map((t) => taskRow(t, now)),
  );
}

/** The queue in claim order: position, task, priority, age and why it waits. */
export function formatQueueTable(queued: readonly QueuedTaskView[], now: number): string {
  if (queued.length === 0) return 'no queued tasks\n';
  return formatTable(
    ['POS', 'ID', 'NAME', 'PRIO', 'WAITING', 'WHY'],
    queued.map((q) => {
      const waited = elapsedMs(q.queued_at, null, now);
      return [
        `#${q.position}`,
        shortId(q.task_id),
        q.name,
        String(q.priority),
        waited === null ? '-' : formatDuration(waited),
        `${q.reason.code}: ${q.reason.message}`,
      ];
    }),
  );
}

const mib = (mb: number) => formatBytes(mb * 1024 * 1024);

/** One worker: a headline, then its attempts and its prewarm state. */
export function formatWorker(w: WorkerView, now: number): string {
  const seen = formatDuration(w.last_seen_age_s * 1000);
  const where = `${w.host}, ${w.runtime}${w.labels.length > 0 ? `, labels ${w.labels.join(',')}` : ''}`;
  if (!w.live) {
    const why = w.status === 'offline' ? 'stopped' : 'stopped answering';
    return `  ${w.id}  offline (${where}): ${why}, last seen ${seen} ago\n`;
  }
  const r = w.resources;
  const h = w.held;
  const slots = w.concurrency === null ? '' : `, ${w.tasks.length}/${w.concurrency} slots`;
  let out =
    `  ${w.id}  ${w.phase} (${where}): cpus ${h.cpus}/${r.cpus}, memory ${mib(h.memory_mb)}/${mib(r.memory_mb)}, ` +
    `gpus ${h.gpus}/${r.gpus}${slots}; seen ${seen} ago\n`;
  for (const t of w.tasks) {
    const since = elapsedMs(t.since, null, now);
    out += `    ${shortId(t.task_id)}  attempt ${t.attempt}, ${t.phase}${since === null ? '' : ` for ${formatDuration(since)}`}\n`;
  }
  if (w.prewarm) {
    const p = w.prewarm;
    const age = elapsedMs(p.started_at, null, now);
    out += `    prewarm: ${shortId(p.target_task_id)} ${p.phase}, ${p.dataset_count} dataset${p.dataset_count === 1 ? '' : 's'}${age === null ? '' : `, ${formatDuration(age)} old`}\n`;
  }
  return out;
}

/** `12 waiting: 3 ready, 9 workers_busy` (reasons with a count only). */
function reasonTally(q: QueueView): string {
  const parts = (Object.entries(q.reasons) as Array<[WaitReasonCode, number]>)
    .filter(([, n]) => n > 0)
    .map(([code, n]) => `${n} ${code}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** The summary under the table: counts, workers, the queue head, isolation warnings. */
export function formatSummary(
  s: Pick<StatusResponse, 'counts' | 'workers' | 'queue'>,
  now: number,
  opts: { queueLines?: number } = {},
): string {
  const c = s.counts;
  const dead = c.dead > 0 ? ` (${c.dead} dead: their worker stopped answering)` : '';
  let out =
    `tasks: ${c.queued} queued, ${c.running} running, ${c.completed} completed, ` +
    `${c.failed} failed${dead}, ${c.cancelled} cancelled\n`;
  if (s.workers.length === 0) out += 'workers: none (start one: fetchml up, or fetchml worker)\n';
  else {
    const live = s.workers.filter((w) => w.live).length;
    out += `workers: ${live} live of ${s.workers.length}\n`;
    for (const w of s.workers) out += formatWorker(w, now);
  }
  const q = s.queue;
  const visible = Object.values(q.reasons).reduce((a, b) => a + b, 0);
  out += `queue: ${q.total} waiting${visible < q.total ? ` (${visible} yours)` : ''}${reasonTally(q)}\n`;
  const lines = opts.queueLines ?? QUEUE_LINES;
  for (const t of q.tasks.slice(0, lines)) {
    out += `  #${t.position}  ${shortId(t.task_id)}  ${t.name}  prio ${t.priority}  ${t.reason.code}: ${t.reason.message}\n`;
  }
  if (lines > 0 && visible > lines) {
    out += `  ... ${visible - lines} more: ml status --status queued\n`;
  }
  for (const w of s.workers.filter((w) => w.runtime === 'process' && w.status !== 'offline')) {
    out += `warning: worker ${w.id} uses the process runtime: jobs run WITHOUT isolation (install bubblewrap or podman)\n`;
  }
  return out;
}

/** `tasks` in the queue's claim order (positions from `queue`); tasks it does not list go last. */
function inClaimOrder(tasks: readonly Task[], queue: QueueView): Task[] {
  const pos = new Map(queue.tasks.map((q) => [q.task_id, q.position]));
  const at = (t: Task) => pos.get(t.id) ?? Number.MAX_SAFE_INTEGER;
  return [...tasks].sort((a, b) => at(a) - at(b));
}

/** Runs `ml status`. */
export async function runStatus(deps: CommandDeps, opts: StatusOptions): Promise<StatusJson> {
  const limit = opts.limit ?? (opts.all ? 1000 : DEFAULT_LIMIT);
  const queuedOnly = opts.status === 'queued';
  const needsList = opts.all || opts.status !== undefined || limit > 200;
  const { status, tasks, url } = await withLightClient(deps, opts.server, async (client) => {
    const status = await client.status({
      limit: Math.min(limit, 200),
      queued: queuedOnly ? limit : 50,
    });
    let tasks: Task[] = status.tasks;
    if (needsList) {
      tasks = (await client.listTasks({ limit, ...(opts.status ? { status: opts.status } : {}) }))
        .tasks;
    }
    return { status, tasks, url: client.url };
  });
  const filtered = tasks.filter((t) => !opts.status || t.status === opts.status).slice(0, limit);
  const shown = queuedOnly ? inClaimOrder(filtered, status.queue) : filtered;
  const out: StatusJson = {
    schema_version: status.schema_version,
    server: url,
    version: status.version,
    now: status.now,
    counts: status.counts,
    workers: status.workers,
    tasks: shown,
    queue: status.queue,
  };
  if (opts.json) {
    writeJson(deps.io.stdout, out);
    return out;
  }
  const now = Date.parse(status.now) || deps.now();
  if (queuedOnly) {
    deps.io.stdout.write(formatQueueTable(status.queue.tasks.slice(0, limit), now));
    deps.io.stdout.write(`\n${formatSummary(status, now, { queueLines: 0 })}`);
  } else {
    deps.io.stdout.write(formatTasks(shown, now));
    deps.io.stdout.write(`\n${formatSummary(status, now)}`);
  }
  return out;
}

/** Registers `ml status`. */
export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('what runs, what waits and why, the workers and task counts (one request)')
    .option('--all', 'list up to 1000 tasks, newest first, instead of the most relevant 20')
    .option(
      '--status <status>',
      `only tasks in this state (${STATUSES.join(', ')}); queued lists the queue in claim order with each task's position and why it waits`,
      choiceFlag(STATUSES),
    )
    .option('--limit <n>', 'show at most n tasks (default 20)', intFlag(1, 1000))
    .addHelpText(
      'after',
      examples(
        'ml status',
        'ml status --status queued            # the queue: position and why each task waits',
        'ml status --status running',
        'ml status --json | jq ".queue.tasks[] | {task_id, position, why: .reason.code}"',
        'ml status --all --json | jq ".tasks[].id"',
      ) +
        '\nThe table shows running tasks first, then failures of the last 24 hours, then queued\n' +
        'tasks in the order workers will take them, then the most recent others.\n' +
        'Wait reasons: ready, no_live_worker, workers_draining, labels_unmatched, too_large,\n' +
        'image_unavailable, workers_busy, higher_priority_ahead, earlier_task_ahead\n' +
        '(docs/cli.md#ml-status).\n' +
        '--json is a stable API: its schema is docs/status.schema.json.\n',
    )
    .action(async (opts: StatusOptions, cmd: Command) => {
      const g = ctx.globals(cmd);
      await runStatus(ctx.deps(), {
        ...opts,
        json: g.json,
        ...(g.server ? { server: g.server } : {}),
      });
    });
}
