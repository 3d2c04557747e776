/**
 * @module server/routes/tasks
 * Task routes: submit, list (filters: status, user, name, limit), get, cancel, `/v1/status`
 * (everything `ml status` shows, in one request) and `/v1/whoami`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { FetchmlError } from '../../core/errors.ts';
import { CreateTaskRequest, TaskListQuery } from '../../core/schemas/api.ts';
import type { StatusResponse, WhoAmIResponse } from '../../core/schemas/api.ts';
import type { RouteContext } from '../context.ts';
import { nowIso } from '../context.ts';
import { assertTaskId } from '../paths.ts';
import { cancelTask, submitTask } from '../task-actions.ts';
import type { Principal } from '../types.ts';
import { parseRequest } from '../validate.ts';

/** How many recent tasks `/v1/status` includes. */
export const STATUS_RECENT = 20;

function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new FetchmlError('ML_ERR_UNAUTHORIZED', 'not authenticated');
  return request.principal;
}

type IdParams = { Params: { id: string } };

export function taskRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/tasks', async (request, reply) => {
    const input = parseRequest(CreateTaskRequest, request.body, 'body');
    const task = await submitTask(ctx, input, principalOf(request));
    return reply.code(201).send(task);
  });

  app.get('/v1/tasks', async (request) => {
    const q = parseRequest(TaskListQuery, request.query, 'query');
    const tasks = await ctx.store.listTasks({
      limit: q.limit,
      ...(q.status ? { status: q.status } : {}),
      ...(q.user !== undefined ? { user: q.user } : {}),
      ...(q.name !== undefined ? { name: q.name } : {}),
    });
    return { tasks };
  });

  // The hot read: the stored document is sent as it is (validated by the store), not re-serialised.
  app.get<IdParams>('/v1/tasks/:id', async (request, reply) => {
    const id = assertTaskId(request.params.id);
    const json = await ctx.store.getTaskJson(id);
    if (json === null) {
      throw new FetchmlError('ML_ERR_TASK_NOT_FOUND', `no such task: ${id}`, {
        details: { task_id: id },
      });
    }
    return reply.type('application/json; charset=utf-8').send(json);
  });

  app.post<IdParams>('/v1/tasks/:id/cancel', async (request) =>
    cancelTask(ctx, assertTaskId(request.params.id)),
  );

  app.get('/v1/whoami', (request) => {
    const p = principalOf(request);
    const out: WhoAmIResponse = { user: p.user, role: p.role, version: ctx.version };
    return out;
  });

  app.get('/v1/status', async () => {
    const [counts, workers, recent] = await Promise.all([
      ctx.store.countTasksByStatus(),
      ctx.store.listWorkers(),
      ctx.store.listTasks({ limit: STATUS_RECENT }),
    ]);
    const out: StatusResponse = { version: ctx.version, now: nowIso(ctx), counts, workers, recent };
    return out;
  });
}
