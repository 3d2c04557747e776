/**
 * @module cli/shared/output
 * Output helpers shared by both programs (`ml` and `fetchml`): the injectable IO they write to
 * (the process's own by default, {@link processIo}), aligned tables for people and JSON for
 * scripts. Commands never touch `process.stdout`, so
 * tests capture everything a command prints.
 */
import { terminalConfirm } from './confirm.ts';

/** Anything with `write(string)`: a process stream, or a buffer in tests. */
export interface TextSink {
  write(chunk: string): unknown;
}

/** What a program reads from and writes to; the bin passes the real process values. */
export interface ProgramIo {
  stdout: TextSink;
  stderr: TextSink;
  /** The environment, handed to `config` (the only module that interprets it). */
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /**
   * Asks a yes/no question on the terminal (cli/shared/confirm). Absent when stdin is not a
   * terminal: a command that needs a yes then requires a flag (`--yes`) instead.
   */
  confirm?: (question: string) => Promise<boolean>;
}

/** The running process's own streams, environment and working directory. */
export function processIo(): ProgramIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    ...terminalConfirm(),
  };
}

/** A sink that records what was written, for tests and for capturing help text. */
export function memorySink(): TextSink & { text(): string } {
  const chunks: string[] = [];
  return {
    write(chunk: string) {
      chunks.push(chunk);
      return true;
    },
    text: () => chunks.join(''),
  };
}

/** Pretty JSON followed by a newline. */
export function writeJson(out: TextSink, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One table cell from any value: lists joined by commas, unset as `-`. */
export function formatCell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (Array.isArray(value)) return value.length === 0 ? '[]' : value.map(String).join(', ');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return JSON.stringify(value) ?? typeof value;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}
