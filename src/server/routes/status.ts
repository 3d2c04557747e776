/**
 * @module server/routes/status
 * `GET /v1/status` (permission `status:read`): everything `ml status` shows, in one request —
 * counts, workers, the most relevant tasks and the queue with each task's position and wait
 * reason (server/status/build). Query: `limit` (relevant tasks, 1–200, default 20) and `queued`
 * (queued tasks detailed, 0–1000, default 50). A role that reads only its own tasks
 * (`tasks:read:own`) sees only its own in the lists.
 */
import type { FastifyInstance } from 'fastify';

import { StatusQuery } from '../../core/schemas/status.ts';
import type { RouteContext } from '../context.ts';
import { principalOf, scopeOf } from '../ownership.ts';
import { buildStatus } from '../status/build.ts';
import { parseRequest } from '../validate.ts';

export function statusRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v1/status', { config: { permission: 'status:read' } }, async (request) => {
    const q = parseRequest(StatusQuery, request.query, 'query');
    const p = principalOf(request);
    const own = scopeOf(ctx, p, 'tasks:read') !== 'any';
    return buildStatus(ctx, { limit: q.limit, queued: q.queued, onlyUser: own ? p.user : null });
  });
}
