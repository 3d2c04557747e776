import { describe, expect, it } from 'vitest';

import { redactConfig, redactUrl, redactValue, REDACTED } from './redact.ts';
import { load, tempDir } from './test-helpers.ts';

describe('redaction', () => {
  it('hides URL passwords but keeps user, host and database', () => {
    expect(redactUrl('postgres://fetchml:s3cret@db:5432/fetchml')).toBe(
      'postgres://fetchml:***@db:5432/fetchml',
    );
    expect(redactUrl('redis://:pw@redis:6379/0')).toBe('redis://:***@redis:6379/0');
    expect(redactUrl('postgres://db/x?user=u&password=pw&ssl=1')).toBe(
      'postgres://db/x?user=u&password=***&ssl=1',
    );
    expect(redactUrl('postgres://u@db/x')).toBe('postgres://u@db/x');
  });

  it('hides secret leaves entirely and leaves others alone', () => {
    expect(redactValue('blobs.s3.secret_access_key', 'SK')).toBe(REDACTED);
    expect(redactValue('blobs.s3.secret_access_key', undefined)).toBeUndefined();
    expect(redactValue('server.port', 9101)).toBe(9101);
  });

  it('redacts a loaded config without changing the original', () => {
    const { config } = load(tempDir(), {
      env: {
        FETCHML_STORE_BACKEND: 'postgres',
        FETCHML_STORE_POSTGRES_URL: 'postgres://u:pw@db/x',
        FETCHML_QUEUE_REDIS_URL: 'rediss://:pw2@r:6380',
        FETCHML_BLOBS_S3_ACCESS_KEY_ID: 'AKIA',
        FETCHML_BLOBS_S3_SECRET_ACCESS_KEY: 'topsecret',
      },
    });
    const shown = redactConfig(config);
    expect(shown.store.postgres_url).toBe('postgres://u:***@db/x');
    expect(shown.queue.redis_url).toBe('rediss://:***@r:6380');
    expect(shown.events.redis_url).toBe('rediss://:***@r:6380');
    expect(shown.blobs.s3.secret_access_key).toBe(REDACTED);
    expect(shown.blobs.s3.access_key_id).toBe('AKIA');
    expect(shown.security.ip_allowlist).toEqual(config.security.ip_allowlist);
    expect(JSON.stringify(shown)).not.toMatch(/pw|topsecret/);
    expect(config.blobs.s3.secret_access_key).toBe('topsecret');
  });
});
