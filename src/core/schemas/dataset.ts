/**
 * @module core/schemas/dataset
 * The dataset catalog: named, versioned, content-addressed inputs of experiments.
 *
 * Glossary:
 * - dataset tree: a tree manifest (like a code snapshot) of the dataset's files; it is stored as a
 *   commit, so its blobs live in the same content-addressed store as code.
 * - checksum: `sha256:<tree id>`, where the tree id is the canonical sha256 of the tree manifest
 *   (the same scheme as commit ids). What `fetchml.yaml` pins under `datasets: [{name, checksum}]`.
 * - version: 1, 2, 3, ... per name; a new version is recorded only when the content (checksum)
 *   is new for that name, so uploading the same files twice gives the same version.
 */
import { z } from 'zod';

import { Checksum, IsoTime, Sha256Hex } from './common.ts';
import { TreeManifest } from './tree.ts';

/** Letters, digits, `.`, `_`, `-`; the same rule as `datasets[].name` in fetchml.yaml. */
export const DatasetName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, . _ - only (max 128)');

/** One version of a dataset, as the catalog records it. */
export const DatasetVersion = z.strictObject({
  name: DatasetName,
  version: z.number().int().min(1),
  checksum: Checksum,
  /** The tree manifest's id (the hex part of `checksum`), stored as a commit. */
  tree_id: Sha256Hex,
  /** Total bytes of the files. */
  size: z.number().int().min(0),
  files: z.number().int().min(0),
  /** The user whose upload recorded this version. */
  creator: z.string().min(1),
  created_at: IsoTime,
});
export type DatasetVersion = z.infer<typeof DatasetVersion>;

/** What the server asks the store to record (version and checksum are the store's to assign). */
export const NewDatasetVersion = z.strictObject({
  name: DatasetName,
  tree_id: Sha256Hex,
  size: z.number().int().min(0),
  files: z.number().int().min(0),
  creator: z.string().min(1),
  created_at: IsoTime,
});
export type NewDatasetVersion = z.infer<typeof NewDatasetVersion>;

/** `sha256:<tree id>`. */
export function datasetChecksum(treeId: string): string {
  return `sha256:${treeId}`;
}

/** The tree id of a `sha256:<hex>` checksum. */
export function treeIdOf(checksum: string): string {
  return checksum.replace(/^sha256:/, '');
}

/**
 * POST /v1/datasets: record the tree as a version of `name`. Answers `{missing}` without storing
 * anything while the server lacks some of the tree's blobs (upload them, then post again).
 */
export const CreateDatasetRequest = z.strictObject({ name: DatasetName, manifest: TreeManifest });
export const CreateDatasetResponse = z.strictObject({
  missing: z.array(Sha256Hex),
  /** The version recorded (or the existing one with the same checksum); null while blobs are missing. */
  dataset: DatasetVersion.nullable(),
  /** True when this request recorded a new version. */
  created: z.boolean(),
});
export type CreateDatasetResponse = z.infer<typeof CreateDatasetResponse>;

/** GET /v1/datasets: the latest version of every dataset, with its number of versions. */
export const DatasetSummary = DatasetVersion.extend({ versions: z.number().int().min(1) });
export type DatasetSummary = z.infer<typeof DatasetSummary>;
export const DatasetListResponse = z.strictObject({ datasets: z.array(DatasetSummary) });
export type DatasetListResponse = z.infer<typeof DatasetListResponse>;

/** GET /v1/datasets/:name[?version=N]: one version (default: the latest) and the version list. */
export const DatasetShowResponse = z.strictObject({
  dataset: DatasetVersion,
  /** Every version of the name, newest first. */
  versions: z.array(DatasetVersion),
  /** With `?files=1`: the version's tree manifest. */
  manifest: TreeManifest.optional(),
});
export type DatasetShowResponse = z.infer<typeof DatasetShowResponse>;

/**
 * One thing an integrity check looked at. `name` says what it is (`dataset mnist file
 * train.csv`, `snapshot file src/a.py`, `plan`); `problem` what is wrong, when `ok` is false.
 */
export const IntegrityItem = z.strictObject({
  kind: z.enum(['commit', 'file', 'dataset', 'plan', 'artifact', 'image', 'manifest']),
  name: z.string(),
  ok: z.boolean(),
  problem: z.string().optional(),
  /** Something worth knowing that is not a failure (e.g. an image digest checked later). */
  note: z.string().optional(),
});
export type IntegrityItem = z.infer<typeof IntegrityItem>;

/** POST /v1/datasets/:name/verify[?version=N]: the server re-hashed every blob and the tree. */
export const DatasetVerifyResponse = z.strictObject({
  dataset: DatasetVersion,
  ok: z.boolean(),
  checked_files: z.number().int().min(0),
  checked_bytes: z.number().int().min(0),
  /** Only the failing items (a verified dataset has none). */
  problems: z.array(IntegrityItem),
});
export type DatasetVerifyResponse = z.infer<typeof DatasetVerifyResponse>;
