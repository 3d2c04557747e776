/**
 * @module core/schemas/status.test
 * Drift check of the published JSON Schema of `ml status --json` (`docs/status.schema.json`): it
 * must equal what {@link statusJsonSchema} generates from the zod schema. `ML_UPDATE_SCHEMA=1`
 * rewrites the file instead (then run prettier on it, review and commit the diff).
 */
import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { STATUS_SCHEMA_VERSION, StatusJson, statusJsonSchema } from './status.ts';

const FILE = new URL('../../../docs/status.schema.json', import.meta.url);

describe('docs/status.schema.json', () => {
  it('matches the StatusJson schema', () => {
    const generated = statusJsonSchema();
    if (process.env['ML_UPDATE_SCHEMA'] === '1') {
      writeFileSync(FILE, `${JSON.stringify(generated, null, 2)}\n`);
    }
    expect(
      JSON.parse(readFileSync(FILE, 'utf8')) as unknown,
      'docs/status.schema.json is out of date. Regenerate it with ' +
        '`ML_UPDATE_SCHEMA=1 npx vitest run src/core/schemas/status.test.ts && npx prettier --write docs/status.schema.json`, then review and commit the diff.',
    ).toEqual(generated);
  });

  it('names its version and the required top-level fields', () => {
    const schema = statusJsonSchema() as { required: string[]; properties: object };
    expect(schema.required).toEqual([
      'schema_version',
      'server',
      'version',
      'now',
      'counts',
      'workers',
      'tasks',
      'queue',
    ]);
    expect(STATUS_SCHEMA_VERSION).toBe(1);
  });

  it('refuses a document that lacks a field or adds one', () => {
    const doc = {
      schema_version: 1,
      server: 'https://127.0.0.1:9101',
      version: '0.1.0',
      now: '2026-01-01T00:00:00.000Z',
      counts: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0, dead: 0 },
      workers: [],
      tasks: [],
      queue: {
        total: 0,
        tasks: [],
        reasons: {
          ready: 0,
          no_live_worker: 0,
          workers_draining: 0,
          labels_unmatched: 0,
          too_large: 0,
          image_unavailable: 0,
          workers_busy: 0,
          higher_priority_ahead: 0,
          earlier_task_ahead: 0,
          quota: 0,
        },
      },
    };
    expect(StatusJson.safeParse(doc).success).toBe(true);
    const { queue: _q, ...noQueue } = doc;
    expect(StatusJson.safeParse(noQueue).success).toBe(false);
    expect(StatusJson.safeParse({ ...doc, extra: 1 }).success).toBe(false);
  });
});
