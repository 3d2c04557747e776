/**
 * @module server/routes/datasets
 * The dataset catalog over HTTP (`ml data`):
 *
 * - `POST /v1/datasets {name, manifest}` (`data:write`): records the tree as a version of `name`.
 *   Like `POST /v1/commits`, it answers `{missing}` and stores nothing while the server lacks some
 *   of the tree's blobs, so an interrupted upload resumes by sending only those. 201 when a new
 *   version was recorded, 200 when the same content already was one (same version back).
 * - `GET /v1/datasets` (`data:read`): the latest version of every dataset.
 * - `GET /v1/datasets/:name[?version=N][&files=1]` (`data:read`): one version (default latest),
 *   every version, and with `files=1` its tree manifest.
 * - `POST /v1/datasets/:name/verify[?version=N]` (`data:read`): re-hashes every blob and the tree.
 *
 * Ownership: datasets are shared — every holder of `data:read` sees them all. A role holding
 * `data:write` only as `:own` (the built-in researcher) may create new names and add versions to
 * names whose first version it uploaded; adding to someone else's name is ML_ERR_FORBIDDEN naming
 * the owner. Versions are immutable: nothing overwrites or deletes one over the API.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import { FetchmlError } from '../../core/errors.ts';
import { canonicalSha256 } from '../../core/hash.ts';
import { CreateDatasetRequest, DatasetName, treeIdOf } from '../../core/schemas/dataset.ts';
import type {
  CreateDatasetResponse,
  DatasetListResponse,
  DatasetShowResponse,
  DatasetVerifyResponse,
  DatasetVersion,
  IntegrityItem,
} from '../../core/schemas/dataset.ts';
import { verifyTreeBlobs } from '../../data/verify.ts';
import type { RouteContext } from '../context.ts';
import { nowIso } from '../context.ts';
import { principalOf, scopeOf } from '../ownership.ts';
import { parseRequest } from '../validate.ts';
import { assertNoHostilePaths } from './commits.ts';

const ShowQuery = z.strictObject({
  version: z.coerce.number().int().min(1).optional(),
  files: z.enum(['0', '1', 'true', 'false']).optional(),
});
const VerifyQuery = z.strictObject({ version: z.coerce.number().int().min(1).optional() });

type NameParams = { Params: { name: string }; Querystring: unknown };

function notFound(name: string, version?: number): FetchmlError {
  return new FetchmlError(
    'ML_ERR_DATASET_NOT_FOUND',
    version === undefined
      ? `no dataset named ${name} (ml data list shows the catalog; ml data upload <dir> --name ${name} adds it)`
      : `dataset ${name} has no version ${version} (ml data show ${name} lists its versions)`,
    { details: { dataset: name, ...(version === undefined ? {} : { version }) } },
  );
}

/** The version a request names, or ML_ERR_DATASET_NOT_FOUND. */
async function loadVersion(
  ctx: RouteContext,
  rawName: string,
  version: number | undefined,
): Promise<DatasetVersion> {
  const name = parseRequest(DatasetName, rawName, 'name');
  const found = await ctx.store.getDatasetVersion(name, version);
  if (!found) throw notFound(name, version);
  return found;
}

/** Re-hashes a dataset version's tree manifest and every blob it names. */
export async function verifyDatasetVersion(
  ctx: RouteContext,
  dataset: DatasetVersion,
): Promise<DatasetVerifyResponse> {
  const label = `dataset ${dataset.name}`;
  const tree = await ctx.store.getCommit(dataset.tree_id);
  if (!tree) {
    const problem: IntegrityItem = {
      kind: 'dataset',
      name: label,
      ok: false,
      problem: `its tree ${dataset.tree_id} is missing from the store`,
    };
    return { dataset, ok: false, checked_files: 0, checked_bytes: 0, problems: [problem] };
  }
  const problems: IntegrityItem[] = [];
  const actual = canonicalSha256(tree);
  if (actual !== treeIdOf(dataset.checksum)) {
    problems.push({
      kind: 'dataset',
      name: label,
      ok: false,
      problem: `its tree manifest hashes to sha256:${actual}, not ${dataset.checksum}`,
    });
  }
  const files = await verifyTreeBlobs(ctx.blobs, tree, label);
  problems.push(...files.problems);
  return {
    dataset,
    ok: problems.length === 0,
    checked_files: files.files,
    checked_bytes: files.bytes,
    problems,
  };
}

/** Adding a version changes state: each request is in the audit log as `dataset.create`. */
const CREATE = { config: { permission: 'data:write', audit: 'dataset.create' } } as const;

export function datasetRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/datasets', CREATE, async (request, reply) => {
    assertNoHostilePaths(request.body);
    const { name, manifest } = parseRequest(CreateDatasetRequest, request.body, 'body');
    const p = principalOf(request);
    if (scopeOf(ctx, p, 'data:write') !== 'any') {
      const first = await ctx.store.getDatasetVersion(name, 1);
      if (first && first.creator !== p.user) {
        throw new FetchmlError(
          'ML_ERR_FORBIDDEN',
          `dataset ${name} belongs to ${first.creator}: role ${p.role} may add versions only to ` +
            'its own datasets (pick another name, or ask an admin)',
          { details: { dataset: name, owner: first.creator } },
        );
      }
    }
    const files = manifest.entries.filter((e) => e.type === 'file');
    if (files.length === 0) {
      throw new FetchmlError('ML_ERR_VALIDATION', `manifest: dataset ${name} has no files`, {
        details: { field: 'manifest' },
      });
    }
    const missing = await ctx.blobs.missing(files.map((e) => e.sha256));
    if (missing.length > 0) {
      const out: CreateDatasetResponse = { missing, dataset: null, created: false };
      request.auditInfo = { target: name, detail: { created: false, missing: missing.length } };
      return reply.code(200).send(out);
    }
    const treeId = canonicalSha256(manifest);
    await ctx.store.putCommit(treeId, manifest);
    const { dataset, created } = await ctx.store.addDatasetVersion({
      name,
      tree_id: treeId,
      size: files.reduce((n, e) => n + e.size, 0),
      files: files.length,
      creator: p.user,
      created_at: nowIso(ctx),
    });
    const out: CreateDatasetResponse = { missing: [], dataset, created };
    request.auditInfo = {
      target: name,
      detail: { created, version: dataset.version, tree_id: treeId, missing: 0 },
    };
    return reply.code(created ? 201 : 200).send(out);
  });

  app.get('/v1/datasets', { config: { permission: 'data:read' } }, async () => {
    const out: DatasetListResponse = { datasets: await ctx.store.listDatasets() };
    return out;
  });

  app.get<NameParams>(
    '/v1/datasets/:name',
    { config: { permission: 'data:read' } },
    async (request) => {
      const q = parseRequest(ShowQuery, request.query, 'query');
      const dataset = await loadVersion(ctx, request.params.name, q.version);
      const versions = await ctx.store.listDatasetVersions(dataset.name);
      const out: DatasetShowResponse = { dataset, versions };
      if (q.files === '1' || q.files === 'true') {
        const tree = await ctx.store.getCommit(dataset.tree_id);
        if (tree) out.manifest = tree;
      }
      return out;
    },
  );

  app.post<NameParams>(
    '/v1/datasets/:name/verify',
    { config: { permission: 'data:read' } },
    async (request) => {
      const q = parseRequest(VerifyQuery, request.query, 'query');
      const dataset = await loadVersion(ctx, request.params.name, q.version);
      return verifyDatasetVersion(ctx, dataset);
    },
  );
}
