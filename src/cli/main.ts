/**
 * @module cli/main
 * The `ml` program (researchers). Same shape as `fetchml`: one `register*` function per command
 * (`cli/commands/*.ts`), the shared program shell from `cli/shared/program.ts`, and an exit code
 * returned to `bin/ml.js`. Command modules import only light modules at load time; the API client,
 * the snapshotter and zod schemas are loaded by the command that needs them, so `ml --help` and
 * usage errors stay as fast as Node's own start.
 */
import type { Command } from 'commander';

import { registerCancel } from './commands/cancel.ts';
import { registerCompare } from './commands/compare.ts';
import { registerCompletion } from './commands/completion.ts';
import { registerData } from './commands/data.ts';
import { registerExport } from './commands/export.ts';
import { registerImport } from './commands/import.ts';
import { registerExplain } from './commands/explain.ts';
import { registerInfo } from './commands/info.ts';
import { registerInit } from './commands/init.ts';
import { registerLogin } from './commands/login.ts';
import { registerLogs } from './commands/logs.ts';
import { registerMonitor } from './commands/monitor.ts';
import { registerQueue } from './commands/queue.ts';
import { registerReproduce } from './commands/reproduce.ts';
import { registerStatus } from './commands/status.ts';
import { registerSync } from './commands/sync.ts';
import { registerWatch } from './commands/watch.ts';
import { registerValidate } from './commands/validate.ts';
import { registerWhoami } from './commands/whoami.ts';
import { defaultClientFactory, defaultLightClientFactory } from './shared/connect.ts';
import { createCliContext, type CliContext } from './shared/context.ts';
import type { ClientFactory, ClientTarget, LightClient, MlGlobalOptions } from './shared/deps.ts';
import { processIo } from './shared/output.ts';
import type { ProgramIo } from './shared/output.ts';
import { createProgram, examples, runProgram } from './shared/program.ts';
import { quietable } from './shared/quiet.ts';

/** Every command of `ml`, registered in this order (help lists them sorted). */
const COMMANDS: ReadonlyArray<(program: Command, ctx: CliContext) => void> = [
  registerInit,
  registerLogin,
  registerSync,
  registerQueue,
  registerWatch,
  registerStatus,
  registerLogs,
  registerMonitor,
  registerCancel,
  registerInfo,
  registerExplain,
  registerValidate,
  registerCompare,
  registerData,
  registerReproduce,
  registerExport,
  registerImport,
  registerWhoami,
  registerCompletion,
];

/** What tests (and embedders) may replace. */
export interface MlOverrides {
  clientFactory?: ClientFactory;
  /** Defaults to the light client, unless a `clientFactory` is given (which then serves all). */
  lightClientFactory?: (target: ClientTarget) => Promise<LightClient>;
  now?: () => number;
}

/**
 * Builds the `ml` program for one run. Its stderr is quietable: `--quiet` (checked just before the
 * command runs) keeps only errors and warnings there (cli/shared/quiet).
 */
export function buildMlProgram(programIo: ProgramIo, overrides: MlOverrides = {}): Command {
  const stderr = quietable(programIo.stderr);
  const io: ProgramIo = { ...programIo, stderr };
  const program = createProgram(
    'ml',
    'ml: snapshot, queue and follow ML experiments on a fetchml server',
    io,
  )
    .option(
      '--server <url>',
      'server URL (default: $FETCHML_SERVER, else the default in your ml client config)',
    )
    .option('-q, --quiet', 'no progress or notes on stderr; only errors and warnings (and results)')
    .hook('preAction', (_program, action) => {
      stderr.quiet = action.optsWithGlobals<MlGlobalOptions>().quiet === true;
    })
    .addHelpText(
      'after',
      examples('ml init', 'ml queue --follow', 'ml status', 'ml logs -f 01JD3Q3Z4X6V') +
        "\nExit codes: 0 ok; 1 error; 2 usage error; `ml logs -f` / `ml queue --follow`: the task's\n" +
        'exit code (130 when cancelled).\n',
    );
  const ctx = createCliContext(
    io,
    overrides.clientFactory ?? defaultClientFactory,
    overrides.now ?? Date.now,
    overrides.lightClientFactory ??
      (overrides.clientFactory ? undefined : defaultLightClientFactory),
  );
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

/**
 * Runs `ml` with `argv` (without the node and script paths) and returns the exit code.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(
  argv: string[],
  io: ProgramIo = processIo(),
  overrides: MlOverrides = {},
): Promise<number> {
  return runProgram(buildMlProgram(io, overrides), argv, io);
}
