/**
 * @module config/test-helpers
 * Fixtures for the config tests: a throwaway directory with an optional config file, and a
 * fixed host so derived defaults are deterministic. Test-only; not exported from `config`.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import type { HostInfo } from './defaults.ts';
import { loadConfig, type LoadConfigOptions, type LoadedConfig } from './load.ts';

/** A fixed machine: 8 CPUs, 16 GiB. */
export const TEST_HOST: HostInfo = { hostname: 'Lab-Box', cpus: 8, totalMemBytes: 16 * 1024 ** 3 };

/** A fresh temp directory (the cwd of a test). */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fetchml-config-'));
}

/** Writes `text` to `dir/rel` (creating parents) and returns the absolute path. */
export function writeFile(dir: string, rel: string, text: string): string {
  const path = join(dir, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** `loadConfig` with the test host, an empty env and `cwd` unless given. */
export function load(cwd: string, options: Partial<LoadConfigOptions> = {}): LoadedConfig {
  return loadConfig({ env: {}, cwd, host: TEST_HOST, ...options });
}

/** The ML_ERR_CONFIG_INVALID message `fn` throws (fails the test if it does not throw one). */
export function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ML_ERR_CONFIG_INVALID') {
      return err.message;
    }
    throw err;
  }
  throw new Error('expected ML_ERR_CONFIG_INVALID, but loading succeeded');
}
