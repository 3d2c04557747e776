/**
 * @module cli/shared/program
 * The shell both programs share: a commander program wired to injected streams with
 * `exitOverride` (commander never exits the process), and the one mapping from what a command
 * throws to what the user sees and the exit code. Only `bin/*.js` turns the number into
 * `process.exitCode`.
 *
 * Exit codes: 0 ok; 1 a {@link FetchmlError} or an unexpected error; 2 usage errors (unknown
 * command or option, missing argument) and invalid configuration found by `config validate`;
 * an {@link ExitError} chooses its own.
 */
import { readFileSync } from 'node:fs';

import { Command, CommanderError } from 'commander';

import { ExitError, FetchmlError } from '../../core/errors.ts';
import { writeJson, type ProgramIo } from './output.ts';

/** Options every program and command understands. */
export interface CommonOptions {
  json?: boolean;
  debug?: boolean;
}

/** Exit code for usage errors. */
export const EXIT_USAGE = 2;

/** The package version, read when asked (never at import time). */
export function packageVersion(): string {
  const url = new URL('../../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** `Examples:` help text appended after a command's options. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

/**
 * A commander program writing to `io`, throwing instead of exiting, with `--json`, `--debug`,
 * `--version` and `--help`. Settings are inherited by commands added afterwards.
 */
export function createProgram(name: string, description: string, io: ProgramIo): Command {
  return new Command(name)
    .description(description)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: true })
    .showSuggestionAfterError(true)
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .option('--json', 'machine-readable output (errors too: {"error":{"code","message"}})')
    .option('--debug', 'print stack traces of unexpected errors');
}

/** Where argv asks for JSON / debug output, read directly so errors before parsing honour it. */
function argvFlags(argv: readonly string[]): CommonOptions {
  const end = argv.indexOf('--');
  const head = end === -1 ? argv : argv.slice(0, end);
  return { json: head.includes('--json'), debug: head.includes('--debug') };
}

/** Prints a FetchmlError as `error: <message>`, or `{error:{code,message,details}}` with --json. */
export function printError(err: FetchmlError, io: ProgramIo, opts: CommonOptions): void {
  if (opts.json) writeJson(io.stdout, err.toJSON());
  else io.stderr.write(`error: ${err.message}${hintFor(err)}\n`);
}

/** What to do next, for errors whose message (often the server's) does not say it. */
function hintFor(err: FetchmlError): string {
  if (err.code === 'ML_ERR_UNAUTHORIZED' && !err.message.includes('ml login')) {
    return '\n  the key comes from $FETCHML_API_KEY if set, else from ml login; check it, or run\n  ml login --server <url> to store a working one (fetchml user add prints a new key)';
  }
  return '';
}

/** Maps anything a program threw to output and an exit code. */
export function reportError(err: unknown, io: ProgramIo, opts: CommonOptions): number {
  if (err instanceof ExitError) return err.exitCode;
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE; // already printed
  if (err instanceof FetchmlError) {
    printError(err, io, opts);
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (opts.json) {
    writeJson(io.stdout, { error: { code: 'ML_ERR_INTERNAL', message } });
  } else {
    io.stderr.write(`error: ${message}\n`);
  }
  io.stderr.write(
    opts.debug && err instanceof Error && err.stack
      ? `${err.stack}\nThis is a bug in fetchml; please report it with the stack above.\n`
      : 'This is a bug in fetchml; please report it (rerun with --debug for the stack).\n',
  );
  return 1;
}

/** Parses argv, runs the chosen command and returns the exit code. Never throws. */
export async function runProgram(
  program: Command,
  argv: readonly string[],
  io: ProgramIo,
): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    return reportError(err, io, argvFlags(argv));
  }
}
