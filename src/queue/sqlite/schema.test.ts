/**
 * @module queue/sqlite/schema.test
 * Drift check: the committed schema.sql must equal the dump of a freshly migrated queue database.
 * `ML_UPDATE_SCHEMA=1` rewrites the file instead (then review and commit the diff).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { renderSchema } from '../../store/sqlite/schema-dump.ts';
import { QUEUE_MIGRATIONS, QUEUE_MIGRATIONS_TABLE, QUEUE_TABLES } from './migrations.ts';

const FILE = fileURLToPath(new URL('./schema.sql', import.meta.url));
const REGENERATE = 'ML_UPDATE_SCHEMA=1 npx vitest run src/queue/sqlite/schema.test.ts';

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

describe('queue schema dump', () => {
  it('src/queue/sqlite/schema.sql matches the migrations', () => {
    const actual = renderSchema({
      migrationsTable: QUEUE_MIGRATIONS_TABLE,
      migrations: QUEUE_MIGRATIONS,
      tables: QUEUE_TABLES,
      regenerate: REGENERATE,
    });
    if (process.env['ML_UPDATE_SCHEMA'] === '1') writeFileSync(FILE, actual);
    expect(
      readOrEmpty(FILE),
      `src/queue/sqlite/schema.sql is out of date with migrations.ts. Regenerate it with \`${REGENERATE}\`, then review and commit the diff.`,
    ).toBe(actual);
  });
});
