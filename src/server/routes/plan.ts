/**
 * @module server/routes/plan
 * `POST /v1/plan`: the plan and preflight of a submission, without queueing anything — what
 * `ml explain` and `ml validate` show. It runs {@link planSubmission}, the same function
 * `POST /v1/tasks` runs before it blocks a failing strict preflight, so the answer here is exactly
 * what a submission of the same inputs would record (or be refused with).
 *
 * The caller names a stored commit, or sends the tree manifest itself: then nothing is uploaded
 * or stored (the commit id is the manifest's digest, the id `ml sync` would get). A plan naming
 * datasets also gets the catalog check POST /v1/tasks refuses unknown datasets with. Permission:
 * `tasks:create` (it is a dry run of one).
 */
import type { FastifyInstance } from 'fastify';

import { resolveDataset } from '../../data/catalog.ts';
import type { DatasetRef } from '../../data/catalog.ts';
import { FetchmlError, isFetchmlError } from '../../core/errors.ts';
import { canonicalSha256 } from '../../core/hash.ts';
import { blockingFailures, warmedTagFor } from '../../core/plan.ts';
import type { PreflightCheck } from '../../core/plan.ts';
import { PlanRequest } from '../../core/schemas/api.ts';
import type { PlanResponse } from '../../core/schemas/api.ts';
import type { RouteContext } from '../context.ts';
import { planSubmission } from '../task-actions.ts';
import { parseRequest } from '../validate.ts';
import { assertNoHostilePaths } from './commits.ts';

/**
 * Whether every dataset the plan names is in the server's catalog (data/catalog, the check
 * POST /v1/tasks refuses an unknown dataset with), as one check; null when the plan has none.
 */
async function catalogCheck(
  ctx: RouteContext,
  datasets: readonly DatasetRef[],
): Promise<PreflightCheck | null> {
  if (datasets.length === 0) return null;
  const problems: string[] = [];
  for (const ref of datasets) {
    try {
      await resolveDataset(ctx.store, ref);
    } catch (err) {
      if (!isFetchmlError(err, 'ML_ERR_DATASET_NOT_FOUND')) throw err;
      problems.push(err.message);
    }
  }
  const name = 'datasets in the catalog';
  return problems.length === 0
    ? { name, ok: true, blocking: true }
    : { name, ok: false, blocking: true, message: problems.join('; ') };
}

export function planRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/plan', { config: { permission: 'tasks:create' } }, async (request) => {
    assertNoHostilePaths(request.body);
    const input = parseRequest(PlanRequest, request.body, 'body');
    let manifest = input.manifest ?? null;
    let commitId: string;
    let stored: boolean;
    if (manifest) {
      commitId = canonicalSha256(manifest);
      stored = await ctx.store.hasCommit(commitId);
    } else {
      commitId = input.commit_id as string;
      manifest = await ctx.store.getCommit(commitId);
      if (!manifest) {
        throw new FetchmlError(
          'ML_ERR_COMMIT_NOT_FOUND',
          `no such commit: ${commitId} (sync it first: ml sync, or explain the project directory)`,
          { details: { commit_id: commitId } },
        );
      }
      stored = true;
    }
    const resolved = await planSubmission(ctx, { ...input, commit_id: commitId }, manifest);
    const catalog = await catalogCheck(ctx, resolved.plan.datasets);
    const checks = catalog ? [...resolved.checks, catalog] : resolved.checks;
    const blocked = blockingFailures(resolved).map((c) => c.name);
    // An unknown dataset refuses the submission under any policy (server/task-actions).
    if (catalog && !catalog.ok) blocked.push(catalog.name);
    const out: PlanResponse = {
      commit_id: commitId,
      commit_stored: stored,
      plan: resolved.plan,
      plan_sha256: resolved.plan_sha256,
      trust_level: resolved.trust_level,
      checks,
      blocked_by: blocked,
      warmed_candidate: warmedTagFor(resolved.plan.image.base, resolved.plan.deps),
      warmed_exists: false,
    };
    return out;
  });
}
