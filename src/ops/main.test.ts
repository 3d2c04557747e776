import { describe, expect, it } from 'vitest';

import { testIo } from '../cli/shared/test-io.ts';
import { configJsonSchema } from '../config/index.ts';
import { tempDir, writeFile } from '../config/test-helpers.ts';
import { buildOpsProgram, main } from './main.ts';

async function run(argv: string[], env: Record<string, string> = {}, cwd = tempDir()) {
  const io = testIo(env, cwd);
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('fetchml config print', () => {
  it('prints a table of key, value and source', async () => {
    const r = await run(['config', 'print'], { FETCHML_SERVER_PORT: '8443' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^KEY\s+VALUE\s+SOURCE\n/);
    expect(r.out).toMatch(/\nserver\.port\s+8443\s+env:FETCHML_SERVER_PORT\n/);
    expect(r.out).toMatch(/\nserver\.tls\.cert\s+-\s+default\n/);
  });

  it('--json gives {config, sources} with secrets redacted', async () => {
    const r = await run(['config', 'print', '--json'], {
      FETCHML_BLOBS_S3_ACCESS_KEY_ID: 'AK',
      FETCHML_BLOBS_S3_SECRET_ACCESS_KEY: 'hunter2',
    });
    expect(r.code).toBe(0);
    const body = JSON.parse(r.out) as {
      config: { blobs: { s3: { secret_access_key: string } } };
      sources: Record<string, string>;
    };
    expect(Object.keys(body)).toEqual(['config', 'sources']);
    expect(body.config.blobs.s3.secret_access_key).toBe('***');
    expect(body.sources['blobs.s3.secret_access_key']).toBe(
      'env:FETCHML_BLOBS_S3_SECRET_ACCESS_KEY',
    );
    expect(r.out).not.toContain('hunter2');
  });

  it('--home and --config are global options', async () => {
    const cwd = tempDir();
    const file = writeFile(cwd, 'conf/x.yaml', 'logging: {level: warn}\n');
    const r = await run(['--home', 'h', 'config', 'print', '--json', '--config', file], {}, cwd);
    const body = JSON.parse(r.out) as { config: { home: string }; sources: Record<string, string> };
    expect(body.config.home).toBe(`${cwd}/h`);
    expect(body.sources['home']).toBe('flag:--home');
    expect(body.sources['logging.level']).toBe(`file:${file}`);
  });

  it('an invalid config is "error: ..." and exit 1; with --json an error object', async () => {
    const r = await run(['config', 'print'], { FETCHML_SERVER_PORT: 'abc' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('error: invalid configuration (1 problem):');
    const j = await run(['config', 'print', '--json'], { FETCHML_SERVER_PORT: 'abc' });
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out)).toMatchObject({ error: { code: 'ML_ERR_CONFIG_INVALID' } });
  });

  it('prints warnings on stderr', async () => {
    const r = await run(['config', 'print', '--json'], { FETCHML_SERVER_PROT: '1' });
    expect(r.code).toBe(0);
    expect(r.err).toContain('warning: FETCHML_SERVER_PROT: unknown fetchml environment variable');
  });
});

describe('fetchml config validate', () => {
  it('ok → exit 0', async () => {
    const r = await run(['config', 'validate']);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/^ok/);
  });

  it('names the file it validated', async () => {
    const cwd = tempDir();
    const file = writeFile(cwd, 'f.yaml', 'server: {port: 9000}\n');
    const r = await run(['config', 'validate', '--config', 'f.yaml'], {}, cwd);
    expect(r.out).toBe(`ok (${file})\n`);
    const j = await run(['config', 'validate', '--config', 'f.yaml', '--json'], {}, cwd);
    expect(JSON.parse(j.out)).toEqual({ ok: true, file, warnings: [] });
  });

  it('problems → exit 2, each listed', async () => {
    const cwd = tempDir();
    writeFile(cwd, 'bad.yaml', 'server:\n  prot: 1\nstore:\n  backend: mysql\n');
    const r = await run(['config', 'validate', '--config', 'bad.yaml'], {}, cwd);
    expect(r.code).toBe(2);
    expect(r.err).toContain('server.prot: unknown key (did you mean "port"?)');
    expect(r.err).toContain('store.backend: expected one of sqlite, postgres; got "mysql"');
  });

  it('a missing --config file → exit 2', async () => {
    const r = await run(['config', 'validate', '--config', 'missing.yaml']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/error: config file not found: .*missing\.yaml \(from --config\)/);
  });
});

describe('fetchml config schema', () => {
  it('prints the JSON Schema', async () => {
    const r = await run(['config', 'schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(configJsonSchema());
  });

  it('--markdown prints the reference table', async () => {
    const r = await run(['config', 'schema', '--markdown']);
    expect(r.out).toContain('| `server.port` | integer | `9101` | `FETCHML_SERVER_PORT` |');
  });
});

describe('fetchml program', () => {
  it('every command has an example in its --help', async () => {
    const program = buildOpsProgram(testIo());
    const paths: string[][] = [[]];
    const walk = (cmd: typeof program, prefix: string[]) => {
      for (const sub of cmd.commands) {
        paths.push([...prefix, sub.name()]);
        walk(sub, [...prefix, sub.name()]);
      }
    };
    walk(program, []);
    expect(paths.length).toBeGreaterThan(3);
    for (const path of paths) {
      const r = await run([...path, '--help']);
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.out, path.join(' ')).toContain('Examples:\n  $ fetchml');
    }
  });

  it('usage errors exit 2', async () => {
    expect((await run(['config', 'nope'])).code).toBe(2);
    expect((await run(['--bogus'])).code).toBe(2);
    expect((await run([])).code).toBe(2);
  });

  it('--version exits 0', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
