/**
 * @module store/sqlite/dataset-sql
 * The SQL of the dataset catalog (table `datasets`). A version is added in one `BEGIN IMMEDIATE`
 * transaction that first looks for the same (name, checksum) and otherwise inserts max(version)+1,
 * so two uploads racing on one name get distinct, consecutive versions and the same content never
 * gets two. `UNIQUE (name, checksum)` and the primary key (name, version) back this up.
 */
import { FetchmlError } from '../../core/errors.ts';
import { formatIssues } from '../../core/schemas/common.ts';
import { datasetChecksum, DatasetVersion } from '../../core/schemas/dataset.ts';
import type { DatasetSummary, NewDatasetVersion } from '../../core/schemas/dataset.ts';
import { isConstraintError } from './connection.ts';
import type { SqliteDatabase } from './connection.ts';

interface DatasetRow {
  name: string;
  version: number;
  dataset_json: string;
}

function decode(row: DatasetRow): DatasetVersion {
  let raw: unknown;
  try {
    raw = JSON.parse(row.dataset_json);
  } catch (cause) {
    throw corrupt(row, ['dataset_json: not valid JSON'], cause);
  }
  const parsed = DatasetVersion.safeParse(raw);
  if (!parsed.success) throw corrupt(row, formatIssues(parsed.error), parsed.error);
  if (parsed.data.name !== row.name || parsed.data.version !== row.version) {
    throw corrupt(row, [`stored as ${parsed.data.name}@${parsed.data.version}`]);
  }
  return parsed.data;
}

function corrupt(row: DatasetRow, issues: string[], cause?: unknown): FetchmlError {
  return new FetchmlError(
    'ML_ERR_STORE_CORRUPT',
    `stored dataset ${row.name}@${row.version} is corrupt: ${issues.join('; ')}`,
    { cause, details: { dataset: row.name, version: row.version, issues } },
  );
}

const COLUMNS = 'name, version, dataset_json';

/** Inserts the next version of `input.name`, or returns the one with the same checksum. */
export function insertDatasetVersion(
  db: SqliteDatabase,
  input: NewDatasetVersion,
): { dataset: DatasetVersion; created: boolean } {
  const checksum = datasetChecksum(input.tree_id);
  const run = db.transaction(() => {
    const same = db
      .prepare(`SELECT ${COLUMNS} FROM datasets WHERE name = ? AND checksum = ?`)
      .get(input.name, checksum) as DatasetRow | undefined;
    if (same) return { dataset: decode(same), created: false };
    const top = db
      .prepare('SELECT COALESCE(MAX(version), 0) AS v FROM datasets WHERE name = ?')
      .get(input.name) as { v: number };
    const dataset: DatasetVersion = {
      name: input.name,
      version: top.v + 1,
      checksum,
      tree_id: input.tree_id,
      size: input.size,
      files: input.files,
      creator: input.creator,
      created_at: input.created_at,
    };
    db.prepare(
      `INSERT INTO datasets (name, version, checksum, tree_id, created_at, dataset_json)
       VALUES (?, CAST(? AS INTEGER), ?, ?, ?, ?)`,
    ).run(
      dataset.name,
      dataset.version,
      checksum,
      dataset.tree_id,
      new Date(dataset.created_at).toISOString(),
      JSON.stringify(dataset),
    );
    return { dataset, created: true };
  });
  try {
    return run.immediate();
  } catch (err) {
    if (isConstraintError(err, 'FOREIGNKEY')) {
      throw new FetchmlError(
        'ML_ERR_COMMIT_NOT_FOUND',
        `dataset ${input.name} names tree ${input.tree_id}, which is not stored as a commit`,
        { cause: err, details: { dataset: input.name, commit_id: input.tree_id } },
      );
    }
    throw err;
  }
}

export function selectDatasetVersion(
  db: SqliteDatabase,
  name: string,
  version: number | undefined,
): DatasetVersion | null {
  const row = (
    version === undefined
      ? db
          .prepare(`SELECT ${COLUMNS} FROM datasets WHERE name = ? ORDER BY version DESC LIMIT 1`)
          .get(name)
      : db
          .prepare(`SELECT ${COLUMNS} FROM datasets WHERE name = ? AND version = ?`)
          .get(name, version)
  ) as DatasetRow | undefined;
  return row ? decode(row) : null;
}

export function selectDatasetByChecksum(
  db: SqliteDatabase,
  name: string,
  checksum: string,
): DatasetVersion | null {
  const row = db
    .prepare(`SELECT ${COLUMNS} FROM datasets WHERE name = ? AND checksum = ?`)
    .get(name, checksum) as DatasetRow | undefined;
  return row ? decode(row) : null;
}

export function selectDatasetVersions(db: SqliteDatabase, name: string): DatasetVersion[] {
  const rows = db
    .prepare(`SELECT ${COLUMNS} FROM datasets WHERE name = ? ORDER BY version DESC`)
    .all(name) as DatasetRow[];
  return rows.map(decode);
}

export function selectDatasets(db: SqliteDatabase): DatasetSummary[] {
  const rows = db
    .prepare(
      `SELECT d.name, d.version, d.dataset_json, c.n AS versions
       FROM datasets d
       JOIN (SELECT name, MAX(version) AS top, COUNT(*) AS n FROM datasets GROUP BY name) c
         ON c.name = d.name AND c.top = d.version
       ORDER BY d.name`,
    )
    .all() as Array<DatasetRow & { versions: number }>;
  return rows.map((row) => ({ ...decode(row), versions: row.versions }));
}
