/**
 * @module ops/main
 * The `fetchml` program (operators): builds the commander program from one `register*` function
 * per command group (`ops/commands/*.ts`), so new groups (`up`, `server`, `worker`, `user`, ...)
 * are added without touching the others. Returns the exit code; only `bin/fetchml.js` sets it.
 */
import type { Command } from 'commander';

import { processIo } from '../cli/shared/output.ts';
import type { ProgramIo } from '../cli/shared/output.ts';
import { createProgram, examples, runProgram } from '../cli/shared/program.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerBanCommands } from './commands/ban.ts';
import { registerConfigCommands } from './commands/config.ts';
import { registerDoctorCommand } from './commands/doctor.ts';
import { registerServeCommands } from './commands/serve.ts';
import { registerUserCommands } from './commands/user.ts';
import { createOpsContext, type OpsContext } from './context.ts';

/** Every command group of `fetchml`, registered in this order. */
const COMMAND_GROUPS: ReadonlyArray<(program: Command, ctx: OpsContext) => void> = [
  registerServeCommands,
  registerConfigCommands,
  registerDoctorCommand,
  registerUserCommands,
  registerBanCommands,
  registerAuditCommands,
];

/** Builds the `fetchml` program for one run (nothing is shared between runs). */
export function buildOpsProgram(io: ProgramIo): Command {
  const program = createProgram(
    'fetchml',
    'fetchml operator tool: run and administer the server and workers',
    io,
  )
    .option(
      '--config <path>',
      'config file (default: $FETCHML_CONFIG, else <home>/fetchml.config.yaml)',
    )
    .option('--home <dir>', 'base directory for all state (default: $FETCHML_HOME, else ./data)')
    .addHelpText(
      'after',
      examples('fetchml config print', 'fetchml --home /srv/fetchml config validate'),
    );
  const ctx = createOpsContext(io);
  for (const register of COMMAND_GROUPS) register(program, ctx);
  return program;
}

/**
 * Runs `fetchml` with `argv` (without the node and script paths) and returns the exit code.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: string[], io: ProgramIo = processIo()): Promise<number> {
  return runProgram(buildOpsProgram(io), argv, io);
}
