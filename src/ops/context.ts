/**
 * @module ops/context
 * What every `fetchml` command gets: the injected IO and a way to load the configuration from
 * the global options (`--config`, `--home`) plus any command-specific config flags. Commands get
 * config through here so the precedence rules live in one place.
 */
import type { Command } from 'commander';

import { loadConfig, type ConfigFlag, type LoadedConfig } from '../config/index.ts';
import type { ProgramIo } from '../cli/shared/output.ts';
import type { CommonOptions } from '../cli/shared/program.ts';

/** Global options of `fetchml`. */
export interface OpsGlobalOptions extends CommonOptions {
  config?: string;
  home?: string;
}

/** Passed to each command group's `register` function. */
export interface OpsContext {
  io: ProgramIo;
  /** The global options as parsed for `cmd` (call inside an action). */
  globals(cmd: Command): OpsGlobalOptions;
  /** Loads the configuration using the global options and `flags` (highest precedence). */
  loadConfig(cmd: Command, flags?: readonly ConfigFlag[]): LoadedConfig;
  /** Prints configuration warnings to stderr. */
  warn(warnings: readonly string[]): void;
}

/** Builds the context for one run of the program. */
export function createOpsContext(io: ProgramIo): OpsContext {
  const globals = (cmd: Command) => cmd.optsWithGlobals<OpsGlobalOptions>();
  return {
    io,
    globals,
    loadConfig(cmd, flags = []) {
      const g = globals(cmd);
      return loadConfig({
        env: io.env,
        cwd: io.cwd,
        configFile: g.config,
        flags: [{ path: 'home', value: g.home, flag: '--home' }, ...flags],
      });
    },
    warn(warnings) {
      for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
    },
  };
}
