/**
 * @module cli/commands/monitor
 * `ml monitor`: the terminal UI (cli/monitor) — job list, details, live logs, cancel, priority,
 * filter. This module only parses flags and checks for a terminal: Ink, React and the UI load
 * inside the action, so `ml --help` stays as fast as Node's own start.
 */
import type { Command } from 'commander';

import { FetchmlError } from '../../core/errors.ts';
import { defaultLightClientFactory, resolveTarget } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CommandDeps } from '../shared/deps.ts';
import { examples } from '../shared/program.ts';
import { intFlag } from './flags.ts';

/** Options of {@link runMonitor}. */
export interface MonitorOptions {
  theme?: string;
  /** Refresh period in ms. */
  interval?: number;
  filter?: string;
  server?: string;
  json?: boolean;
}

/** A terminal to draw on: the streams Ink needs. */
export interface MonitorTerminalStreams {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
}

export const THEME_NAMES = ['dark', 'light', 'none'] as const;

/** Runs `ml monitor` on `term` until the user quits. */
export async function runMonitor(
  deps: CommandDeps,
  term: MonitorTerminalStreams,
  opts: MonitorOptions,
): Promise<void> {
  if (opts.json) {
    throw new FetchmlError(
      'ML_ERR_VALIDATION',
      'ml monitor is interactive and has no --json output; use `ml status --json`',
      { details: { field: 'json' } },
    );
  }
  if (!term.stdout.isTTY || !term.stdin.isTTY) {
    throw new FetchmlError(
      'ML_ERR_VALIDATION',
      'ml monitor needs a terminal (stdin and stdout must be a TTY); in scripts use `ml status` or `ml logs -f`',
      { details: { field: 'terminal' } },
    );
  }
  const target = resolveTarget(deps, opts.server);
  const light = await (deps.lightClientFactory ?? defaultLightClientFactory)(target);
  const [{ createMonitorApi }, { startMonitor }, { pickTheme }] = await Promise.all([
    import('../monitor/api.ts'),
    import('../monitor/start.ts'),
    import('../monitor/theme.ts'),
  ]);
  const api = createMonitorApi(light, () => deps.clientFactory(target));
  try {
    await startMonitor(api, term, {
      server: target.url,
      theme: pickTheme(opts.theme, deps.io.env),
      intervalMs: opts.interval ?? 2000,
      filter: opts.filter ?? '',
      altScreen: deps.io.env['TERM'] !== 'dumb',
      now: deps.now,
    });
  } finally {
    await api.close();
  }
}

/** Registers `ml monitor`. */
export function registerMonitor(program: Command, ctx: CliContext): void {
  program
    .command('monitor')
    .description('terminal UI: job list, details, live logs, cancel, priority, filter (? for keys)')
    .addOption(
      program
        .createOption('--theme <name>', 'dark, light or none (default: none when NO_COLOR is set)')
        .choices(THEME_NAMES),
    )
    .option(
      '--interval <ms>',
      'refresh the list every <ms> milliseconds',
      intFlag(250, 60_000),
      2000,
    )
    .option('--filter <text>', 'start filtered, e.g. "status:running" or "user:ana resnet"')
    .addHelpText(
      'after',
      examples(
        'ml monitor',
        'ml monitor --filter status:running,queued',
        'NO_COLOR=1 ml monitor',
        'ssh gpu-box -t ml monitor --theme light',
      ) +
        '\nKeys: j/k move, enter details, l logs, c cancel, p priority, / filter, ? help, q quit.\n' +
        'See docs/monitor.md.\n',
    )
    .action(async (opts: MonitorOptions, cmd: Command) => {
      const g = ctx.globals(cmd);
      // The monitor draws on the process's own terminal (Ink needs the real streams).
      const io = ctx.io as { stdin?: NodeJS.ReadStream; stdout: unknown };
      const term: MonitorTerminalStreams = {
        stdin: io.stdin ?? process.stdin,
        stdout: io.stdout as NodeJS.WriteStream,
      };
      await runMonitor(ctx.deps(), term, {
        ...opts,
        json: g.json,
        ...(g.server ? { server: g.server } : {}),
      });
    });
}
