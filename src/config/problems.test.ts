import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { isFetchmlError } from '../core/errors.ts';
import { configError, load, tempDir, writeFile } from './test-helpers.ts';

describe('invalid configuration messages', () => {
  it('bad port from env names the field, the value and the variable', () => {
    const message = configError(() => load(tempDir(), { env: { FETCHML_SERVER_PORT: 'abc' } }));
    expect(message).toBe(
      'invalid configuration (1 problem):\n  server.port: expected a number, got "abc" (from env:FETCHML_SERVER_PORT)',
    );
  });

  it('bad port from a file names the file', () => {
    const cwd = tempDir();
    const path = writeFile(cwd, 'data/fetchml.config.yaml', 'server:\n  port: abc\n');
    expect(configError(() => load(cwd))).toContain(
      `server.port: expected a number, got "abc" (from file:${path})`,
    );
  });

  it('out-of-range and non-positive numbers', () => {
    const message = configError(() =>
      load(tempDir(), {
        env: { FETCHML_SERVER_PORT: '70000' },
        flags: [{ path: 'worker.concurrency', value: 0, flag: '--concurrency' }],
      }),
    );
    expect(message).toContain('server.port: must be at most 65535 (from env:FETCHML_SERVER_PORT)');
    expect(message).toContain(
      'worker.concurrency: must be greater than 0 (from flag:--concurrency)',
    );
  });

  it('unknown keys are errors with a did-you-mean, at any depth', () => {
    const cwd = tempDir();
    const path = writeFile(
      cwd,
      'data/fetchml.config.yaml',
      'sever:\n  port: 1\nworker:\n  memory_md: 4g\n  zzzzzz: 1\n',
    );
    const message = configError(() => load(cwd));
    expect(message).toContain(`sever: unknown key (did you mean "server"?) (from file:${path})`);
    expect(message).toContain(
      `worker.memory_md: unknown key (did you mean "memory_mb"?) (from file:${path})`,
    );
    expect(message).toContain(`worker.zzzzzz: unknown key (from file:${path})`);
    expect(message).toMatch(/^invalid configuration \(3 problems\)/);
  });

  it('wrong enum lists the allowed values', () => {
    const message = configError(() => load(tempDir(), { env: { FETCHML_STORE_BACKEND: 'mysql' } }));
    expect(message).toContain(
      'store.backend: expected one of sqlite, postgres; got "mysql" (from env:FETCHML_STORE_BACKEND)',
    );
  });

  it('wrong type for a whole section', () => {
    const cwd = tempDir();
    const path = writeFile(cwd, 'data/fetchml.config.yaml', 'server: 5\n');
    expect(configError(() => load(cwd))).toContain(
      `server: expected a mapping, got 5 (from file:${path})`,
    );
  });

  it('a config file that is not a mapping', () => {
    const cwd = tempDir();
    const path = writeFile(cwd, 'data/fetchml.config.yaml', '- a\n- b\n');
    expect(configError(() => load(cwd))).toContain(
      `<root>: expected a mapping of sections (server:, store:, ...), got a list (from file:${path})`,
    );
  });

  it('invalid YAML names the file, line and column', () => {
    const cwd = tempDir();
    const path = writeFile(cwd, 'data/fetchml.config.yaml', 'server:\n  port: 1\n   host: x\n');
    const message = configError(() => load(cwd));
    expect(message).toContain(`invalid YAML in ${path}`);
    expect(message).toContain('line 2, column 9: Nested mappings are not allowed');
  });

  it('duplicate keys in YAML are errors', () => {
    const cwd = tempDir();
    writeFile(cwd, 'data/fetchml.config.yaml', 'server:\n  port: 1\n  port: 2\n');
    expect(configError(() => load(cwd))).toMatch(/invalid YAML.*\n.*line 3/);
  });

  it('a missing file given by --config or FETCHML_CONFIG is an error', () => {
    const cwd = tempDir();
    expect(configError(() => load(cwd, { configFile: 'nope.yaml' }))).toBe(
      `config file not found: ${join(cwd, 'nope.yaml')} (from --config)`,
    );
    expect(configError(() => load(cwd, { env: { FETCHML_CONFIG: 'gone.yaml' } }))).toBe(
      `config file not found: ${join(cwd, 'gone.yaml')} (from env:FETCHML_CONFIG)`,
    );
  });

  it('bad gpus and bad size values', () => {
    const message = configError(() =>
      load(tempDir(), { env: { FETCHML_WORKER_GPUS: 'all', FETCHML_WORKER_MEMORY_MB: 'lots' } }),
    );
    expect(message).toContain('worker.gpus: must be auto, none or a list of GPU indices');
    expect(message).toContain('worker.memory_mb: not a size: "lots"');
  });

  it('bad URLs', () => {
    const message = configError(() =>
      load(tempDir(), { env: { FETCHML_STORE_POSTGRES_URL: 'mysql://x' } }),
    );
    expect(message).toContain(
      'store.postgres_url: must be a URL starting with postgres:// or postgresql://',
    );
  });

  it('carries structured problems in details', () => {
    try {
      load(tempDir(), { env: { FETCHML_SERVER_PORT: 'abc' } });
      expect.unreachable();
    } catch (err) {
      expect(isFetchmlError(err, 'ML_ERR_CONFIG_INVALID')).toBe(true);
      expect((err as { details: unknown }).details).toEqual({
        problems: [
          {
            path: 'server.port',
            message: 'expected a number, got "abc"',
            source: 'env:FETCHML_SERVER_PORT',
          },
        ],
      });
    }
  });
});
