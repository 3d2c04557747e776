/**
 * @module server/routes/compare
 * `GET /v1/compare?a=<task>&b=<task>[&diff=true]`: two runs side by side (`ml compare`), built by
 * ../compare.ts from their run manifests and commits. Permission `tasks:read` on both tasks (a
 * task the caller may not read answers like one that does not exist); both must have started
 * (a run manifest), else ML_ERR_MANIFEST_NOT_FOUND names the task.
 */
import type { FastifyInstance } from 'fastify';

import { FetchmlError } from '../../core/errors.ts';
import { CompareQuery } from '../../core/schemas/compare.ts';
import type { TreeManifest } from '../../core/schemas/tree.ts';
import { compareRuns } from '../compare.ts';
import type { RouteContext } from '../context.ts';
import { loadAccessibleTask } from '../ownership.ts';
import { assertTaskId } from '../paths.ts';
import { parseRequest } from '../validate.ts';
import { loadRunManifest } from './files.ts';

export function compareRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const load = async (request: Parameters<typeof loadAccessibleTask>[1], id: string) => {
    await loadAccessibleTask(ctx, request, assertTaskId(id));
    const manifest = await loadRunManifest(ctx, id);
    const tree: TreeManifest | null = await ctx.store.getCommit(manifest.commit_id);
    if (!tree) {
      throw new FetchmlError(
        'ML_ERR_COMMIT_NOT_FOUND',
        `commit ${manifest.commit_id} of task ${id} is no longer stored`,
        { details: { task_id: id, commit_id: manifest.commit_id } },
      );
    }
    return { manifest, tree };
  };

  app.get('/v1/compare', { config: { permission: 'tasks:read' } }, async (request) => {
    const q = parseRequest(CompareQuery, request.query, 'query');
    const a = await load(request, q.a);
    const b = await load(request, q.b);
    return compareRuns(a, b, q.diff ? (sha) => ctx.blobs.get(sha) : null);
  });
}
