/**
 * Runs the built `fetchml` binary (bin/fetchml.js → dist/) in a child process. `npm test` builds
 * first; when dist is missing (vitest run directly) it is built here (test/support/dist.ts).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { beforeAll, describe, expect, it } from 'vitest';

import { ensureBuilt } from '../../test/support/dist.ts';
import { tempDir, writeFile } from '../config/test-helpers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${root}bin/fetchml.js`;

function fetchml(args: string[], env: Record<string, string>, cwd: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    env,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('bin/fetchml.js', () => {
  beforeAll(ensureBuilt, 180_000);

  it('config print --json reads FETCHML_HOME and its config file', () => {
    const home = tempDir();
    const file = writeFile(home, 'fetchml.config.yaml', 'server:\n  port: 9555\n');
    const r = fetchml(['config', 'print', '--json'], { FETCHML_HOME: home }, tempDir());
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const body = JSON.parse(r.out) as {
      config: { home: string; server: { port: number }; store: { sqlite_path: string } };
      sources: Record<string, string>;
    };
    expect(body.config.home).toBe(home);
    expect(body.config.server.port).toBe(9555);
    expect(body.sources['server.port']).toBe(`file:${file}`);
    expect(body.sources['home']).toBe('env:FETCHML_HOME');
    expect(body.config.store.sqlite_path).toBe(`${home}/fetchml.db`);
  });

  it('sets the exit code: 2 for an invalid config, 0 for --help', () => {
    const bad = fetchml(['config', 'validate'], { FETCHML_SERVER_PORT: 'abc' }, tempDir());
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(
      'server.port: expected a number, got "abc" (from env:FETCHML_SERVER_PORT)',
    );
    expect(fetchml(['--help'], {}, tempDir()).code).toBe(0);
  });

  it('bin/ml.js --help exits 0', () => {
    const r = spawnSync(process.execPath, [`${root}bin/ml.js`, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: ml');
  });
});
