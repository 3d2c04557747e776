/**
 * @module cli/commands/status
 * `ml status`: the queue at a glance from one request (`GET /v1/status`: counts, workers and the
 * 20 most recent tasks), so it stays fast enough to run in a loop. `--all` and a `--limit` above
 * what status carries add one `GET /v1/tasks`. Workers on the `process` runtime run jobs without
 * any isolation; status says so every time.
 */
import type { Command } from 'commander';

import type { StatusResponse, WorkerSummary } from '../../core/schemas/api.ts';
import type { Task, TaskStatus } from '../../core/schemas/task.ts';
import { withLightClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CommandDeps } from '../shared/deps.ts';
import { elapsedMs, formatDuration, shortId } from '../shared/format.ts';
import { formatTable, writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';
import { choiceFlag, intFlag } from './flags.ts';

const STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
/** How many tasks `/v1/status` carries. */
const STATUS_RECENT = 20;

/** Options of {@link runStatus}. */
export interface StatusOptions {
  all?: boolean;
  status?: TaskStatus;
  limit?: number;
  json?: boolean;
  server?: string;
}

/** The `--json` shape of `ml status` (stable). */
export interface StatusJson {
  server: string;
  version: string;
  now: string;
  counts: Record<string, number>;
  workers: WorkerSummary[];
  tasks: Task[];
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

/** The summary lines: counts, workers, isolation warnings. */
export function formatSummary(s: Pick<StatusResponse, 'counts' | 'workers'>, now: number): string {
  const counts = STATUSES.map((k) => `${s.counts[k] ?? 0} ${k}`).join(', ');
  const workers =
    s.workers.length === 0
      ? 'no workers (start one: fetchml up, or fetchml worker)'
      : s.workers
          .map((w) => {
            const seen = elapsedMs(w.last_seen_at, null, now);
            return `${w.id} ${w.status} on ${w.host} (${w.runtime}, ${w.resources.cpus} cpus, ${w.resources.gpus} gpus${seen !== null && seen > 60_000 ? `, last seen ${formatDuration(seen)} ago` : ''})`;
          })
          .join('; ');
  let out = `tasks: ${counts}\nworkers: ${workers}\n`;
  for (const w of s.workers.filter((w) => w.runtime === 'process')) {
    out += `warning: worker ${w.id} uses the process runtime: jobs run WITHOUT isolation (install bubblewrap or podman)\n`;
  }
  return out;
}

/** Runs `ml status`. */
export async function runStatus(deps: CommandDeps, opts: StatusOptions): Promise<StatusJson> {
  const limit = opts.limit ?? (opts.all ? 1000 : STATUS_RECENT);
  const { status, tasks, url } = await withLightClient(deps, opts.server, async (client) => {
    const status = await client.status();
    let tasks = status.recent;
    if (opts.all || limit > STATUS_RECENT) {
      tasks = (await client.listTasks({ limit, ...(opts.status ? { status: opts.status } : {}) }))
        .tasks;
    }
    return { status, tasks, url: client.url };
  });
  const shown = tasks.filter((t) => !opts.status || t.status === opts.status).slice(0, limit);
  const out: StatusJson = {
    server: url,
    version: status.version,
    now: status.now,
    counts: status.counts,
    workers: status.workers,
    tasks: shown,
  };
  if (opts.json) writeJson(deps.io.stdout, out);
  else {
    const now = Date.parse(status.now) || deps.now();
    deps.io.stdout.write(formatTasks(shown, now));
    deps.io.stdout.write(`\n${formatSummary(status, now)}`);
  }
  return out;
}

/** Registers `ml status`. */
export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('recent tasks, task counts and workers (one request)')
    .option('--all', 'list up to 1000 tasks, not just the 20 most recent')
    .option(
      '--status <status>',
      `only tasks in this state (${STATUSES.join(', ')})`,
      choiceFlag(STATUSES),
    )
    .option('--limit <n>', 'show at most n tasks (default 20)', intFlag(1, 1000))
    .addHelpText(
      'after',
      examples(
        'ml status',
        'ml status --status running',
        'ml status --all --json | jq ".tasks[].id"',
      ),
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
