import { describe, expect, it } from 'vitest';

import { configError, load, tempDir, writeFile } from './test-helpers.ts';

const env = (vars: Record<string, string>) => () => load(tempDir(), { env: vars });

describe('cross-field rules', () => {
  it('postgres store needs postgres_url, blaming the backend setting', () => {
    expect(configError(env({ FETCHML_STORE_BACKEND: 'postgres' }))).toBe(
      'invalid configuration (1 problem):\n  store.postgres_url: required when store.backend is "postgres" (store.backend from env:FETCHML_STORE_BACKEND)',
    );
    expect(
      load(tempDir(), {
        env: { FETCHML_STORE_BACKEND: 'postgres', FETCHML_STORE_POSTGRES_URL: 'postgres://h/db' },
      }).config.store.postgres_url,
    ).toBe('postgres://h/db');
  });

  it('redis queue needs redis_url; redis events fall back to it', () => {
    expect(configError(env({ FETCHML_QUEUE_BACKEND: 'redis' }))).toContain(
      'queue.redis_url: required when queue.backend is "redis"',
    );
    expect(configError(env({ FETCHML_EVENTS_BACKEND: 'redis' }))).toContain(
      'events.redis_url: required when events.backend is "redis" (or set queue.redis_url)',
    );
    const ok = load(tempDir(), {
      env: {
        FETCHML_QUEUE_BACKEND: 'redis',
        FETCHML_EVENTS_BACKEND: 'redis',
        FETCHML_QUEUE_REDIS_URL: 'redis://r:6379',
      },
    });
    expect(ok.config.events.redis_url).toBe('redis://r:6379');
    expect(ok.warnings).toEqual([]);
  });

  it('warns when a shared queue is paired with in-process events', () => {
    const { warnings } = load(tempDir(), {
      env: { FETCHML_QUEUE_BACKEND: 'redis', FETCHML_QUEUE_REDIS_URL: 'redis://r' },
    });
    expect(warnings).toEqual([
      'events.backend: "memory" only reaches subscribers in this process; with queue.backend "redis" (several processes) use "redis" (queue.backend from env:FETCHML_QUEUE_BACKEND)',
    ]);
  });

  it('s3 blobs need a bucket, and keys come in pairs', () => {
    const cwd = tempDir();
    const path = writeFile(cwd, 'data/fetchml.config.yaml', 'blobs:\n  backend: s3\n');
    expect(configError(() => load(cwd))).toContain(
      `blobs.s3.bucket: required when blobs.backend is "s3" (blobs.backend from file:${path})`,
    );
    expect(configError(env({ FETCHML_BLOBS_S3_ACCESS_KEY_ID: 'AK' }))).toContain(
      'blobs.s3.secret_access_key: required when access_key_id is set',
    );
    expect(configError(env({ FETCHML_BLOBS_S3_SECRET_ACCESS_KEY: 'SK' }))).toContain(
      'blobs.s3.access_key_id: required when secret_access_key is set',
    );
  });

  it('tls cert and key come together', () => {
    expect(configError(env({ FETCHML_SERVER_TLS_CERT: '/c.pem' }))).toContain(
      'server.tls.key: required when server.tls.cert is set (server.tls.cert from env:FETCHML_SERVER_TLS_CERT)',
    );
    expect(configError(env({ FETCHML_SERVER_TLS_KEY: '/k.pem' }))).toContain(
      'server.tls.cert: required when server.tls.key is set',
    );
  });

  it('heartbeat must be shorter than the lease', () => {
    expect(configError(env({ FETCHML_WORKER_HEARTBEAT_MS: '30000' }))).toContain(
      'worker.heartbeat_ms: must be less than worker.lease_ms (30000), or leases expire between heartbeats (from env:FETCHML_WORKER_HEARTBEAT_MS)',
    );
  });

  it('reports every rule violation at once', () => {
    const message = configError(
      env({ FETCHML_STORE_BACKEND: 'postgres', FETCHML_BLOBS_BACKEND: 's3' }),
    );
    expect(message).toMatch(/^invalid configuration \(2 problems\)/);
  });
});
