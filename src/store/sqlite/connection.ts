/**
 * @module store/sqlite/connection
 * Opening a SQLite file the way every fetchml SQLite backend needs it, and the few helpers they
 * share. The store and the queue live in one file in the embedded setup (a server and up to a few
 * workers in separate processes), so every connection sets the same pragmas:
 *
 * - `journal_mode=WAL`: readers never block the single writer, and processes share the file safely.
 * - `busy_timeout`: a writer waits for the lock instead of failing at once with SQLITE_BUSY.
 * - `synchronous=NORMAL`: durable across process crashes in WAL mode; only an OS crash may lose the
 *   last transactions, never corrupt the file (the SQLite-documented trade-off for WAL).
 * - `foreign_keys=ON`: SQLite leaves it off by default, per connection.
 *
 * The queue (src/queue/sqlite) imports this module rather than keeping a copy, so the two can never
 * disagree on pragmas or on how a migration is applied.
 */
import Database from 'better-sqlite3';

import { FetchmlError } from '../../core/errors.ts';

/** A better-sqlite3 connection, kept behind this module so no SQLite type leaks into interfaces. */
export type SqliteDatabase = Database.Database;

/** Options shared by the SQLite factories. */
export interface SqliteConnectionOptions {
  /** Path of the database file; it is created when absent. */
  path: string;
  /**
   * How long a writer waits for another connection's write lock before giving up.
   * @default 5000
   */
  busyTimeoutMs?: number;
}

/** Opens `path` with the pragmas described in the module comment. */
export function openSqliteDatabase(options: SqliteConnectionOptions): SqliteDatabase {
  let db: SqliteDatabase;
  try {
    db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
  } catch (cause) {
    throw new FetchmlError('ML_ERR_UNAVAILABLE', `cannot open SQLite database ${options.path}`, {
      cause,
      details: { path: options.path },
    });
  }
  try {
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (cause) {
    db.close();
    throw new FetchmlError(
      'ML_ERR_UNAVAILABLE',
      `cannot configure SQLite database ${options.path}`,
      {
        cause,
        details: { path: options.path },
      },
    );
  }
  return db;
}

/** One schema change. Its version is its 1-based position in the array it belongs to. */
export interface SqliteMigration {
  /** Short description, recorded in the migrations table. */
  name: string;
  /** One or more statements, run inside the migration's transaction. */
  sql: string;
}

/**
 * Applies the migrations of `list` not yet recorded in `table`, each in its own `BEGIN IMMEDIATE`
 * transaction that also records it, so a crash leaves either none or all of a migration and two
 * processes migrating at once apply each migration exactly once. Lists are append-only: never edit,
 * reorder or remove a shipped migration. Returns the versions applied by this call.
 */
export function applyMigrations(
  db: SqliteDatabase,
  table: string,
  list: readonly SqliteMigration[],
  now: () => number = Date.now,
): number[] {
  if (!/^[a-z_]+$/.test(table)) {
    throw new FetchmlError('ML_ERR_INTERNAL', `bad migrations table name ${table}`);
  }
  db.exec(
    `CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`,
  );
  const newest = db.prepare(`SELECT max(version) AS v FROM ${table}`).get() as { v: number | null };
  if ((newest.v ?? 0) > list.length) {
    throw new FetchmlError(
      'ML_ERR_UNAVAILABLE',
      `database schema (${table} version ${newest.v}) is newer than this fetchml knows (version ${list.length}); upgrade fetchml`,
      { details: { table, database_version: newest.v, known_version: list.length } },
    );
  }
  const applied: number[] = [];
  list.forEach((migration, index) => {
    const version = index + 1;
    const apply = db.transaction(() => {
      const done = db.prepare(`SELECT 1 FROM ${table} WHERE version = ?`).get(version);
      if (done !== undefined) return;
      db.exec(migration.sql);
      db.prepare(`INSERT INTO ${table} (version, name, applied_at) VALUES (?, ?, ?)`).run(
        version,
        migration.name,
        new Date(now()).toISOString(),
      );
      applied.push(version);
    });
    apply.immediate();
  });
  return applied;
}

/**
 * The schema as SQLite stores it (`sqlite_master`), in a stable order, for the committed
 * `schema.sql` drift checks. `include` picks the tables (with their indexes) owned by the caller,
 * since the store and the queue may share one file.
 */
export function dumpSchema(db: SqliteDatabase, include: (table: string) => boolean): string {
  const rows = db
    .prepare(
      `SELECT type, name, tbl_name, sql FROM sqlite_master
       WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
       ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, tbl_name, name`,
    )
    .all() as Array<{ type: string; name: string; tbl_name: string; sql: string }>;
  return rows
    .filter((row) => include(row.tbl_name))
    .map((row) => `${row.sql};\n`)
    .join('\n');
}

/** True when `err` is a SQLite constraint violation of the given kind (e.g. `UNIQUE`). */
export function isConstraintError(
  err: unknown,
  kind?: 'UNIQUE' | 'PRIMARYKEY' | 'FOREIGNKEY',
): boolean {
  if (!(err instanceof Error) || !('code' in err) || typeof err.code !== 'string') return false;
  return kind === undefined
    ? err.code.startsWith('SQLITE_CONSTRAINT')
    : err.code === `SQLITE_CONSTRAINT_${kind}`;
}

/**
 * Turns whatever a SQLite call threw into a FetchmlError: ours pass through, a busy/locked
 * database becomes ML_ERR_UNAVAILABLE, anything else ML_ERR_INTERNAL — always with the cause.
 */
export function wrapSqliteError(err: unknown, what: string): FetchmlError {
  if (err instanceof FetchmlError) return err;
  const code =
    err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  if (code !== undefined && /^SQLITE_(BUSY|LOCKED)/.test(code)) {
    return new FetchmlError('ML_ERR_UNAVAILABLE', `${what}: database is busy (${message})`, {
      cause: err,
    });
  }
  if (err instanceof Error && /database connection is not open/.test(message)) {
    return new FetchmlError('ML_ERR_UNAVAILABLE', `${what}: database is closed`, { cause: err });
  }
  if (code !== undefined && /no such table/.test(message)) {
    return new FetchmlError(
      'ML_ERR_UNAVAILABLE',
      `${what}: database is not migrated (${message}); run \`fetchml migrate\``,
      { cause: err },
    );
  }
  return new FetchmlError('ML_ERR_INTERNAL', `${what}: ${message}`, { cause: err });
}

/**
 * Runs synchronous SQLite work and settles a promise with its result, mapping errors with
 * {@link wrapSqliteError}. Interfaces are async so network backends can implement them.
 */
export function settle<T>(what: string, work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(wrapSqliteError(err, what));
  }
}
