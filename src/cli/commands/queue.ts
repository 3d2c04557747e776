/**
 * @module cli/commands/queue
 * `ml queue`: sync, then submit the commit with the project's fetchml.yaml. Flags override the
 * spec for this task only (resources, timeout, priority, name); arguments after `--` are appended
 * to the command. stdout carries only the task id (or the Task with `--json`), so
 * `id=$(ml queue)` works; the sync summary goes to stderr. An invalid fetchml.yaml names the field
 * before anything is uploaded; a failing strict preflight prints the server's message (exit 1).
 */
import { fitWarning } from '../shared/fit.ts';
import type { Command } from 'commander';

import { ExitError, FetchmlError } from '../../core/errors.ts';
import type { CreateTaskRequest } from '../../core/schemas/api.ts';
import type { Task } from '../../core/schemas/task.ts';
import { withClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CommandDeps } from '../shared/deps.ts';
import { followTask } from '../shared/follow.ts';
import { shortId } from '../shared/format.ts';
import { writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';
import { loadSpec, requireProjectRoot } from '../shared/project.ts';
import { choiceFlag, durationFlag, intFlag, positiveFlag, sizeFlag } from './flags.ts';
import { describeSync, syncProject } from './sync.ts';

/** Options of {@link runQueue}. */
export interface QueueOptions {
  priority?: number;
  cpus?: number;
  /** MiB. */
  memory?: number;
  gpus?: number;
  /** Seconds. */
  timeout?: number;
  name?: string;
  /** `relaxed` queues despite failing preflight checks, at a lower trust level. */
  reproPolicy?: 'strict' | 'relaxed';
  follow?: boolean;
  json?: boolean;
  server?: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The CreateTaskRequest for a commit, spec, flags and extra args. `ml explain` and `ml validate`
 * send the same request (less the queueing fields) to POST /v1/plan, so they show exactly what
 * `ml queue` with the same flags would submit.
 */
export function buildTaskRequest(
  commitId: string,
  spec: CreateTaskRequest['spec'],
  opts: QueueOptions,
  args: readonly string[],
): CreateTaskRequest {
  const resources = {
    ...(opts.cpus !== undefined ? { cpus: opts.cpus } : {}),
    ...(opts.memory !== undefined ? { memory_mb: opts.memory } : {}),
    ...(opts.gpus !== undefined ? { gpus: opts.gpus } : {}),
  };
  return {
    commit_id: commitId,
    spec: opts.name !== undefined ? { ...spec, name: opts.name } : spec,
    args: [...args],
    ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    ...(opts.timeout !== undefined ? { timeout_s: opts.timeout } : {}),
    ...(opts.reproPolicy !== undefined ? { repro_policy: opts.reproPolicy } : {}),
  };
}

/** Runs `ml queue`; returns the submitted task. */
export async function runQueue(
  deps: CommandDeps,
  opts: QueueOptions,
  args: readonly string[] = [],
): Promise<Task> {
  if (opts.name !== undefined && !NAME_RE.test(opts.name)) {
    throw new FetchmlError('ML_ERR_VALIDATION', '--name: letters, digits, . _ - only (max 128)', {
      details: { field: 'name' },
    });
  }
  const root = requireProjectRoot(deps.cwd);
  const spec = await loadSpec(root);
  let exitCode = 0;
  const task = await withClient(deps, opts.server, async (client) => {
    const synced = await syncProject(deps, client, { root, json: opts.json });
    if (!opts.json) deps.io.stderr.write(describeSync(synced));
    const created = await client.createTask(buildTaskRequest(synced.commit_id, spec, opts, args));
    if (opts.json) writeJson(deps.io.stdout, created);
    else {
      deps.io.stdout.write(`${created.id}\n`);
      deps.io.stderr.write(
        `queued ${created.name} as ${created.id} (priority ${created.priority}, trust ${created.trust_level})\n` +
          (opts.follow ? '' : `  follow it: ml logs -f ${shortId(created.id)}\n`),
      );
      // Best-effort: the task is queued whatever this answers.
      let warning: string | null = null;
      try {
        warning = fitWarning(created, (await client.status()).workers);
      } catch {
        // no status, no warning
      }
      if (warning) deps.io.stderr.write(`warning: ${warning}\n`);
    }
    if (opts.follow) {
      exitCode = (await followTask(deps, client, created.id, { json: opts.json })).code;
    }
    return created;
  });
  if (exitCode !== 0) throw new ExitError(exitCode);
  return task;
}

/** Registers `ml queue`. */
export function registerQueue(program: Command, ctx: CliContext): void {
  program
    .command('queue')
    .description('sync the project and submit it as a task; prints the task id')
    .argument('[args...]', 'extra arguments appended to the command (after --)')
    .option(
      '--priority <n>',
      'higher runs first (-1000..1000; default: the spec, else 0)',
      intFlag(-1000, 1000),
    )
    .option('--cpus <n>', 'CPUs for this run (overrides resources.cpus)', positiveFlag)
    .option(
      '--memory <size>',
      'memory for this run, e.g. 512m or 4g (overrides resources.memory)',
      sizeFlag,
    )
    .option('--gpus <n>', 'GPUs for this run (overrides resources.gpus)', intFlag(0, 64))
    .option('--timeout <duration>', 'stop the run after this long, e.g. 90s, 30m, 2h', durationFlag)
    .option('--name <name>', 'task name (default: the spec name)')
    .option(
      '--repro-policy <policy>',
      'strict (default: failing preflight checks block) or relaxed (queue anyway, lower trust level)',
      choiceFlag(['strict', 'relaxed'] as const),
    )
    .option('-f, --follow', 'then follow its log like `ml logs -f` and exit with its exit code')
    .addHelpText(
      'after',
      examples(
        'ml queue',
        'ml queue --priority 10 --gpus 1 --memory 16g -- --lr 0.01 --epochs 5',
        'ml queue --follow',
        'id=$(ml queue --timeout 2h)',
        'ml explain            # the plan and preflight checks, without queueing',
      ),
    )
    .action(async (args: string[], opts: QueueOptions, cmd: Command) => {
      const g = ctx.globals(cmd);
      await runQueue(
        ctx.deps(),
        { ...opts, json: g.json, ...(g.server ? { server: g.server } : {}) },
        args,
      );
    });
}
