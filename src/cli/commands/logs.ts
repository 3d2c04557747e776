/**
 * @module cli/commands/logs
 * `ml logs <task>`: the task's log as it is now, read in ranges (`GET /v1/tasks/:id/logs`), or
 * with `-f` followed over the WebSocket until the task ends, exiting with the task's exit code
 * (see cli/shared/follow).
 */
import type { Command } from 'commander';

import { ExitError } from '../../core/errors.ts';
import { withClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CliClient, CommandDeps } from '../shared/deps.ts';
import { followTask } from '../shared/follow.ts';
import { writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';
import { resolveTaskId } from '../shared/task-ref.ts';

/** Options of {@link runLogs}. */
export interface LogsOptions {
  follow?: boolean;
  json?: boolean;
  server?: string;
}

/** Reads the whole log as it is now, writing each range as it arrives (unless `collect`). */
export async function readWholeLog(
  client: Pick<CliClient, 'readLogs'>,
  taskId: string,
  write: ((text: string) => void) | null,
): Promise<{ text: string; status: string; size: number }> {
  let offset = 0;
  const parts: string[] = [];
  for (;;) {
    const range = await client.readLogs(taskId, { offset });
    if (write) write(range.text);
    else parts.push(range.text);
    if (range.eof || range.next_offset <= offset) {
      return { text: parts.join(''), status: range.status, size: range.size };
    }
    offset = range.next_offset;
  }
}

/** Runs `ml logs`; returns the exit code (non-zero only with `--follow`). */
export async function runLogs(deps: CommandDeps, ref: string, opts: LogsOptions): Promise<number> {
  const code = await withClient(deps, opts.server, async (client) => {
    const id = await resolveTaskId(client, ref);
    if (opts.follow) return (await followTask(deps, client, id, { json: opts.json })).code;
    if (opts.json) {
      const log = await readWholeLog(client, id, null);
      writeJson(deps.io.stdout, {
        task_id: id,
        status: log.status,
        size: log.size,
        text: log.text,
      });
    } else {
      await readWholeLog(client, id, (t) => deps.io.stdout.write(t));
    }
    return 0;
  });
  if (code !== 0) throw new ExitError(code);
  return code;
}

/** Registers `ml logs`. */
export function registerLogs(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .description("print a task's log; -f follows it live until the task ends")
    .argument('<task>', 'task id or a unique prefix of it (as `ml status` shows)')
    .option('-f, --follow', "follow until the task ends, then exit with the task's exit code")
    .addHelpText(
      'after',
      examples(
        'ml logs 01JD3Q3Z4X6V',
        'ml logs -f task_01JD3Q3Z4X6V8W9Y0A1B2C3D4E',
        'ml logs -f 01JD3Q || echo "failed: $?"',
      ) +
        "\nExit codes with -f: 0 completed, the task's exit code when it failed (1 when it had none),\n130 cancelled.\n",
    )
    .action(async (task: string, opts: LogsOptions, cmd: Command) => {
      const g = ctx.globals(cmd);
      await runLogs(ctx.deps(), task, {
        ...opts,
        json: g.json,
        ...(g.server ? { server: g.server } : {}),
      });
    });
}
