/**
 * @module store/sqlite/schema.test
 * Drift check: the committed schema.sql must equal the dump of a freshly migrated database.
 * `ML_UPDATE_SCHEMA=1` rewrites the file instead (then review and commit the diff).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { renderStoreSchema } from './schema-dump.ts';

const FILE = fileURLToPath(new URL('./schema.sql', import.meta.url));

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

describe('store schema dump', () => {
  it('src/store/sqlite/schema.sql matches the migrations', () => {
    const actual = renderStoreSchema();
    if (process.env['ML_UPDATE_SCHEMA'] === '1') writeFileSync(FILE, actual);
    expect(
      readOrEmpty(FILE),
      'src/store/sqlite/schema.sql is out of date with migrations.ts. Regenerate it with ' +
        '`ML_UPDATE_SCHEMA=1 npx vitest run src/store/sqlite/schema.test.ts`, then review and commit the diff.',
    ).toBe(actual);
  });
});
