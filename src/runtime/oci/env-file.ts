/**
 * @module runtime/oci/env-file
 * Hands the job environment to podman/docker without putting any value on a command line (where
 * every local user could read it in `ps`): values go into an `--env-file` in a fresh 0700 temp
 * dir, written 0600 and removed after the run.
 *
 * The env-file format is one `NAME=value` per line with no quoting, so a value containing a
 * newline (or CR/NUL) cannot be written there; such a variable is passed as `-e NAME` with its
 * value in the engine process's own environment instead (still never on the command line). A name
 * the engine itself reads (PATH, CONTAINERS_CONF, ...) cannot travel that way and is dropped with
 * a warning.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ENGINE_ENV_KEYS } from './cli.ts';

/** A written env file and what goes with it. */
export interface EnvFile {
  path: string;
  /** Names to pass as `-e NAME`. */
  names: string[];
  /** Their values, to merge into the engine's environment. */
  values: Record<string, string>;
  /** Variables that could not be passed at all. */
  warnings: string[];
  /** Removes the file and its dir (never throws). */
  cleanup(): Promise<void>;
}

const UNWRITABLE = /[\n\r\0]/;

/** Writes `env` for one run under `root` (default: the OS temp dir). */
export async function writeEnvFile(env: Record<string, string>, root = tmpdir()): Promise<EnvFile> {
  const dir = await mkdtemp(join(root, 'fetchml-env-'));
  const path = join(dir, 'env');
  const lines: string[] = [];
  const names: string[] = [];
  const values: Record<string, string> = {};
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!UNWRITABLE.test(value)) lines.push(`${name}=${value}`);
    else if (ENGINE_ENV_KEYS.includes(name) || value.includes('\0')) {
      warnings.push(
        `env ${name} not passed: its value has a newline or NUL and ${name} is reserved`,
      );
    } else {
      names.push(name);
      values[name] = value;
    }
  }
  try {
    await writeFile(path, `${lines.join('\n')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    path,
    names,
    values,
    warnings,
    cleanup: () => rm(dir, { recursive: true, force: true }).catch(() => undefined),
  };
}
