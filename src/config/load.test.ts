import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { load, tempDir, writeFile } from './test-helpers.ts';

describe('loadConfig layering', () => {
  it('uses built-in defaults with no file, env or flags', () => {
    const cwd = tempDir();
    const { config, sources, file, warnings } = load(cwd);
    expect(config.home).toBe(join(cwd, 'data'));
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 9101,
      tls: { hostnames: [] },
      body_limit_mb: 64,
    });
    expect(config.store.sqlite_path).toBe(join(cwd, 'data', 'fetchml.db'));
    expect(config.blobs.root).toBe(join(cwd, 'data', 'objects'));
    expect(config.worker).toMatchObject({
      id: 'lab-box',
      cpus: 8,
      memory_mb: Math.floor(16 * 1024 * 0.9),
      gpus: 'auto',
      work_dir: join(cwd, 'data', 'cache', 'work'),
    });
    expect(config.security.ip_allowlist).toContain('192.168.0.0/16');
    expect(Object.values(sources).every((s) => s === 'default')).toBe(true);
    expect(file).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('applies default < file < env < flag, and records each source', () => {
    const cwd = tempDir();
    const path = writeFile(
      cwd,
      'data/fetchml.config.yaml',
      'server:\n  port: 1111\n  host: 0.0.0.0\nlogging:\n  level: debug\nworker:\n  concurrency: 2\n',
    );
    const { config, sources, file } = load(cwd, {
      env: { FETCHML_SERVER_PORT: '2222', FETCHML_WORKER_CONCURRENCY: '3' },
      flags: [{ path: 'server.port', value: 3333, flag: '--port' }],
    });
    expect(file).toBe(path);
    expect(config.server.port).toBe(3333);
    expect(sources['server.port']).toBe('flag:--port');
    expect(config.worker.concurrency).toBe(3);
    expect(sources['worker.concurrency']).toBe('env:FETCHML_WORKER_CONCURRENCY');
    expect(config.server.host).toBe('0.0.0.0');
    expect(sources['server.host']).toBe(`file:${path}`);
    expect(config.logging.level).toBe('debug');
    expect(sources['server.body_limit_mb']).toBe('default');
  });

  it('has a source for every leaf', () => {
    const { sources } = load(tempDir());
    expect(Object.keys(sources)).toContain('blobs.s3.secret_access_key');
    expect(Object.keys(sources)).toContain('worker.memory_mb');
    expect(Object.keys(sources)).toHaveLength(42);
  });

  it('ignores flags whose value is undefined', () => {
    const { sources } = load(tempDir(), {
      flags: [{ path: 'server.port', value: undefined, flag: '--port' }],
    });
    expect(sources['server.port']).toBe('default');
  });

  it('treats YAML nulls and empty sections as unset', () => {
    const cwd = tempDir();
    writeFile(cwd, 'data/fetchml.config.yaml', 'server:\n  tls:\n  port:\nstore: {}\n');
    const { config, sources } = load(cwd);
    expect(config.server.port).toBe(9101);
    expect(sources['server.port']).toBe('default');
  });

  it('accepts an empty config file', () => {
    const cwd = tempDir();
    const path = writeFile(cwd, 'data/fetchml.config.yaml', '');
    expect(load(cwd).file).toBe(path);
  });
});

describe('loadConfig environment', () => {
  it('coerces numbers, booleans, lists and keyword-or-list leaves', () => {
    const { config } = load(tempDir(), {
      env: {
        FETCHML_WORKER_MEMORY_MB: '16g',
        FETCHML_WORKER_CPUS: '2.5',
        FETCHML_BLOBS_S3_FORCE_PATH_STYLE: 'yes',
        FETCHML_SECURITY_IP_ALLOWLIST: '10.1.0.0/16, 127.0.0.1',
        FETCHML_WORKER_LABELS: 'a100,lab-2',
        FETCHML_WORKER_GPUS: '0,1',
      },
    });
    expect(config.worker.memory_mb).toBe(16384);
    expect(config.worker.cpus).toBe(2.5);
    expect(config.blobs.s3.force_path_style).toBe(true);
    expect(config.security.ip_allowlist).toEqual(['10.1.0.0/16', '127.0.0.1']);
    expect(config.worker.labels).toEqual(['a100', 'lab-2']);
    expect(config.worker.gpus).toEqual([0, 1]);
    expect(load(tempDir(), { env: { FETCHML_WORKER_GPUS: 'none' } }).config.worker.gpus).toBe(
      'none',
    );
  });

  it('treats empty variables as unset', () => {
    const { sources } = load(tempDir(), { env: { FETCHML_SERVER_PORT: '  ' } });
    expect(sources['server.port']).toBe('default');
  });

  it('warns about unknown FETCHML_* variables with a hint, and ignores other variables', () => {
    const { warnings } = load(tempDir(), {
      env: {
        FETCHML_SERVER_PROT: '1',
        HOME: '/root',
        FETCHML_CONFIG: '',
        // The ml client's own variables, set in the same shell, are not warned about.
        FETCHML_API_KEY: 'fml_x',
        FETCHML_CLIENT_CONFIG: '/tmp/c.json',
        FETCHML_SERVER: 'https://127.0.0.1:9101',
      },
    });
    expect(warnings).toEqual([
      'FETCHML_SERVER_PROT: unknown fetchml environment variable, ignored (did you mean "FETCHML_SERVER_PORT"?)',
    ]);
  });

  it('FETCHML_HOME moves home, the derived paths and the default config file', () => {
    const cwd = tempDir();
    const path = writeFile(cwd, 'srv/fetchml.config.yaml', 'server:\n  port: 4444\n');
    const { config, sources, file } = load(cwd, { env: { FETCHML_HOME: 'srv' } });
    expect(config.home).toBe(join(cwd, 'srv'));
    expect(sources['home']).toBe('env:FETCHML_HOME');
    expect(file).toBe(path);
    expect(config.server.port).toBe(4444);
    expect(config.store.sqlite_path).toBe(join(cwd, 'srv', 'fetchml.db'));
  });

  it('a --home flag beats FETCHML_HOME', () => {
    const cwd = tempDir();
    const { config, sources } = load(cwd, {
      env: { FETCHML_HOME: '/env-home' },
      flags: [{ path: 'home', value: 'flag-home', flag: '--home' }],
    });
    expect(config.home).toBe(join(cwd, 'flag-home'));
    expect(sources['home']).toBe('flag:--home');
  });
});

describe('loadConfig file choice and paths', () => {
  it('--config beats FETCHML_CONFIG, which beats <home>/fetchml.config.yaml', () => {
    const cwd = tempDir();
    writeFile(cwd, 'data/fetchml.config.yaml', 'server: {port: 1}\n');
    const fromEnv = writeFile(cwd, 'env.yaml', 'server: {port: 2}\n');
    const fromFlag = writeFile(cwd, 'flag.yaml', 'server: {port: 3}\n');
    expect(load(cwd).config.server.port).toBe(1);
    const env = { FETCHML_CONFIG: 'env.yaml' };
    expect(load(cwd, { env }).file).toBe(fromEnv);
    expect(load(cwd, { env }).config.server.port).toBe(2);
    expect(load(cwd, { env, configFile: 'flag.yaml' }).file).toBe(fromFlag);
    expect(load(cwd, { env, configFile: 'flag.yaml' }).config.server.port).toBe(3);
  });

  it('resolves relative paths in a file against its directory, others against cwd', () => {
    const cwd = tempDir();
    writeFile(
      cwd,
      'etc/f.yaml',
      'home: ../state\nserver:\n  tls: {cert: tls/c.pem, key: /abs/k.pem}\n',
    );
    const { config } = load(cwd, {
      configFile: 'etc/f.yaml',
      env: { FETCHML_BLOBS_ROOT: 'blobs' },
    });
    expect(config.home).toBe(join(cwd, 'state'));
    expect(config.server.tls).toEqual({
      cert: join(cwd, 'etc', 'tls', 'c.pem'),
      key: '/abs/k.pem',
      hostnames: [],
    });
    expect(config.blobs.root).toBe(join(cwd, 'blobs'));
    expect(config.store.sqlite_path).toBe(join(cwd, 'state', 'fetchml.db'));
  });

  it('keeps an explicitly set derived leaf', () => {
    const { config, sources } = load(tempDir(), {
      env: { FETCHML_WORKER_ID: 'gpu-1', FETCHML_QUEUE_REDIS_URL: 'redis://r:6379' },
    });
    expect(config.worker.id).toBe('gpu-1');
    expect(sources['worker.id']).toBe('env:FETCHML_WORKER_ID');
    expect(config.events.redis_url).toBe('redis://r:6379');
    expect(sources['events.redis_url']).toBe('default');
  });
});
