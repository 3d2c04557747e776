/**
 * @module cli/shared/test-io
 * A {@link ProgramIo} that records stdout and stderr, for in-process tests of both programs.
 * Test-only.
 */
import { memorySink, type ProgramIo } from './output.ts';

/** Recording IO with the given environment and working directory. */
export function testIo(
  env: Record<string, string | undefined> = {},
  cwd = '/nonexistent',
): ProgramIo & { out(): string; err(): string } {
  const stdout = memorySink();
  const stderr = memorySink();
  return { stdout, stderr, env, cwd, out: () => stdout.text(), err: () => stderr.text() };
}
