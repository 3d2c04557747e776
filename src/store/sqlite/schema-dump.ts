/**
 * @module store/sqlite/schema-dump
 * Renders the schema an empty database has after migrating, as SQLite itself stores it. The result
 * is committed (`schema.sql` beside each migrations module) and a test fails when it drifts, so a
 * schema change is always visible in review as a diff of plain DDL — not only as a new migration.
 */
import { applyMigrations, dumpSchema, openSqliteDatabase } from './connection.ts';
import type { SqliteMigration } from './connection.ts';
import { STORE_MIGRATIONS, STORE_MIGRATIONS_TABLE, STORE_TABLES } from './migrations.ts';

/** What to migrate and which tables to include in the dump. */
export interface SchemaSource {
  migrationsTable: string;
  migrations: readonly SqliteMigration[];
  tables: readonly string[];
  /** The command that regenerates the committed file, written into its header. */
  regenerate: string;
}

/** Migrates an in-memory database with `source` and returns the dump with a header. */
export function renderSchema(source: SchemaSource): string {
  const db = openSqliteDatabase({ path: ':memory:' });
  try {
    applyMigrations(db, source.migrationsTable, source.migrations, () => 0);
    const body = dumpSchema(db, (table) => source.tables.includes(table));
    return [
      '-- GENERATED FILE, DO NOT EDIT: the schema after every migration, as sqlite_master has it.',
      `-- Migrations applied: ${source.migrations.length} (table ${source.migrationsTable}).`,
      `-- Regenerate: ${source.regenerate}`,
      '',
      body,
    ].join('\n');
  } finally {
    db.close();
  }
}

/** The metadata store's schema dump (src/store/sqlite/schema.sql). */
export function renderStoreSchema(): string {
  return renderSchema({
    migrationsTable: STORE_MIGRATIONS_TABLE,
    migrations: STORE_MIGRATIONS,
    tables: STORE_TABLES,
    regenerate: 'ML_UPDATE_SCHEMA=1 npx vitest run src/store/sqlite/schema.test.ts',
  });
}
