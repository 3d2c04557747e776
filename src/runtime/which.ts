/**
 * @module runtime/which
 * Finds executables and runs short probe commands; the only place runtimes shell out for
 * detection (`bwrap --version`, a trial sandbox), so detection stays cheap and testable.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { DEFAULT_PATH } from './types.ts';

/** Resolves an executable name to a path, or null. Injectable for tests and `detectRuntime`. */
export type Which = (command: string) => Promise<string | null>;

/** A {@link Which} that searches `searchPath` (default: {@link DEFAULT_PATH}). */
export function makeWhich(searchPath: string = DEFAULT_PATH): Which {
  return async (command) => {
    const dirs = command.includes('/') ? [''] : searchPath.split(':').filter((d) => d !== '');
    for (const dir of dirs) {
      const candidate = dir === '' ? command : join(dir, command);
      try {
        if (!(await stat(candidate)).isFile()) continue;
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
    return null;
  };
}

/** Output of a short probe command. */
export interface ProbeResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Runs `file args` with an empty environment and a timeout; never throws. */
export function probe(file: string, args: string[], timeoutMs = 5000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, env: { PATH: DEFAULT_PATH }, encoding: 'utf8' },
      (err, stdout, stderr) => {
        resolve({ ok: err === null, stdout, stderr: stderr || (err?.message ?? '') });
      },
    );
  });
}
