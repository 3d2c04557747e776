/**
 * @module cli/commands/cancel
 * `ml cancel <task...>`: cancel each task and say what happened to it — removed from the queue,
 * its worker told to stop, or it had already finished. One bad id does not stop the others; the
 * exit code is 1 when any failed.
 */
import type { Command } from 'commander';

import { coerceError, ExitError } from '../../core/errors.ts';
import { withClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CommandDeps } from '../shared/deps.ts';
import { writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';
import { resolveTaskId } from '../shared/task-ref.ts';

/** The outcome for one task (an element of the `--json` array). */
export type CancelOutcome =
  | {
      ref: string;
      task_id: string;
      outcome: 'removed' | 'signalled' | 'already_finished';
      status: string;
    }
  | { ref: string; task_id: string | null; error: { code: string; message: string } };

const WORDS = {
  removed: 'cancelled (removed from the queue)',
  signalled: 'stopping (its worker was told to stop)',
  already_finished: 'already finished',
} as const;

/** Runs `ml cancel`. */
export async function runCancel(
  deps: CommandDeps,
  refs: readonly string[],
  opts: { json?: boolean; server?: string },
): Promise<CancelOutcome[]> {
  const results = await withClient(deps, opts.server, async (client) => {
    const out: CancelOutcome[] = [];
    for (const ref of refs) {
      let id: string | null = null;
      try {
        id = await resolveTaskId(client, ref);
        const r = await client.cancelTask(id);
        out.push({ ref, task_id: r.task_id, outcome: r.outcome, status: r.task.status });
        if (!opts.json) {
          const extra = r.outcome === 'already_finished' ? ` (${r.task.status})` : '';
          deps.io.stdout.write(`${r.task_id}: ${WORDS[r.outcome]}${extra}\n`);
        }
      } catch (err) {
        const e = coerceError(err);
        out.push({ ref, task_id: id, error: { code: e.code, message: e.message } });
        if (!opts.json) deps.io.stderr.write(`error: ${ref}: ${e.message}\n`);
      }
    }
    return out;
  });
  if (opts.json) writeJson(deps.io.stdout, results);
  if (results.some((r) => 'error' in r)) throw new ExitError(1);
  return results;
}

/** Registers `ml cancel`. */
export function registerCancel(program: Command, ctx: CliContext): void {
  program
    .command('cancel')
    .description('cancel tasks: queued ones are removed, running ones are stopped')
    .argument('<task...>', 'task ids or unique prefixes')
    .addHelpText('after', examples('ml cancel 01JD3Q3Z4X6V', 'ml cancel 01JD3Q 01JD3R --json'))
    .action(async (tasks: string[], _opts: unknown, cmd: Command) => {
      const g = ctx.globals(cmd);
      await runCancel(ctx.deps(), tasks, {
        json: g.json,
        ...(g.server ? { server: g.server } : {}),
      });
    });
}
