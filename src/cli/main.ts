/**
 * @module cli/main
 * The `ml` program (researchers). Same shape as `fetchml`: one `register*` function per command
 * group under `cli/commands/`, the shared program shell from `cli/shared/program.ts`, and an exit
 * code returned to `bin/ml.js`. Commands are listed in `--help` only once they exist.
 */
import type { Command } from 'commander';

import type { ProgramIo } from './shared/output.ts';
import { createProgram, examples, runProgram } from './shared/program.ts';

/** Every command group of `ml`, registered in this order (none yet). */
const COMMAND_GROUPS: ReadonlyArray<(program: Command, io: ProgramIo) => void> = [];

/** Builds the `ml` program for one run. */
export function buildMlProgram(io: ProgramIo): Command {
  const program = createProgram(
    'ml',
    'ml: snapshot, queue and follow ML experiments on a fetchml server',
    io,
  ).addHelpText('after', examples('ml --version'));
  for (const register of COMMAND_GROUPS) register(program, io);
  if (COMMAND_GROUPS.length === 0) {
    // Without commands, a bare `ml` shows help rather than doing nothing, and `help <cmd>`
    // would have nothing to show.
    program.helpCommand(false).action(() => program.help());
  }
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
  io: ProgramIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  },
): Promise<number> {
  return runProgram(buildMlProgram(io), argv, io);
}
