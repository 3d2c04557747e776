/**
 * @module runtime/oci/cli
 * Runs short engine commands (`podman image inspect`, `podman kill`, `docker info`, ...) and
 * returns their output; the job container itself is started by ./run-container.ts.
 *
 * The engine gets a small allowlist of the worker's environment: what podman/docker read to find
 * their configuration and storage (`CONTAINERS_CONF`, `XDG_RUNTIME_DIR`, `DOCKER_HOST`, ...) and
 * nothing else, so the worker's secrets never reach a process that does not need them.
 */
import { execFile } from 'node:child_process';

import { DEFAULT_PATH } from '../types.ts';

/** Environment variables the engine CLIs read for their own configuration. */
export const ENGINE_ENV_KEYS: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'TMPDIR',
  'XDG_RUNTIME_DIR',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'CONTAINERS_CONF',
  'CONTAINERS_STORAGE_CONF',
  'CONTAINERS_REGISTRIES_CONF',
  'CONTAINER_HOST',
  'CONTAINER_CONNECTION',
  'DOCKER_HOST',
  'DOCKER_CONFIG',
  'DOCKER_CONTEXT',
  'DOCKER_TLS_VERIFY',
  'DOCKER_CERT_PATH',
];

/** The engine's environment from `source` (the worker's): only {@link ENGINE_ENV_KEYS}. */
export function engineEnvFrom(source: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ENGINE_ENV_KEYS) {
    const value = source[key];
    if (value !== undefined && value !== '') env[key] = value;
  }
  env['PATH'] ??= DEFAULT_PATH;
  return env;
}

/** Output of one engine command. */
export interface CliResult {
  /** Exit code; null when it could not be started or was killed (see `error`). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Spawn failure or timeout, if any. */
  error?: string;
}

/** Runs `bin args` with `env` and a timeout; never throws. */
export function runCli(
  bin: string,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      { env, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve({ code: 0, stdout, stderr });
          return;
        }
        const code = typeof err.code === 'number' ? err.code : null;
        resolve({
          code,
          stdout,
          stderr,
          ...(code === null
            ? { error: err.killed ? `timed out after ${timeoutMs} ms` : err.message }
            : {}),
        });
      },
    );
  });
}

/** The most useful line of a failed command, for error messages. */
export function cliError(result: CliResult): string {
  const text = (result.stderr || result.error || result.stdout).trim();
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.find((l) => /^Error/i.test(l)) ?? lines.at(-1) ?? `exit code ${result.code}`;
}
