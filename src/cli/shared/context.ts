/**
 * @module cli/shared/context
 * What each command's `register` function gets: the run's IO, client factory and clock, and a
 * way to turn a parsed commander command into {@link CommandDeps} and global options.
 */
import type { Command } from 'commander';

import type {
  ClientFactory,
  ClientTarget,
  CommandDeps,
  LightClient,
  MlGlobalOptions,
} from './deps.ts';
import type { ProgramIo } from './output.ts';

/** Passed to every `register*` function of `ml`. */
export interface CliContext {
  io: ProgramIo;
  clientFactory: ClientFactory;
  lightClientFactory: ((target: ClientTarget) => Promise<LightClient>) | undefined;
  now: () => number;
  /** The injected dependencies for a command's action. */
  deps(): CommandDeps;
  /** Global options (`--json`, `--debug`, `--server`) as parsed for `cmd`. */
  globals(cmd: Command): MlGlobalOptions;
}

/** Builds the context of one run. */
export function createCliContext(
  io: ProgramIo,
  clientFactory: ClientFactory,
  now: () => number,
  lightClientFactory?: (target: ClientTarget) => Promise<LightClient>,
): CliContext {
  return {
    io,
    clientFactory,
    lightClientFactory,
    now,
    deps: () => ({
      io,
      cwd: io.cwd,
      clientFactory,
      now,
      ...(lightClientFactory ? { lightClientFactory } : {}),
    }),
    globals: (cmd) => cmd.optsWithGlobals<MlGlobalOptions>(),
  };
}
