/**
 * @module server/routes/tasks
 * Task routes: submit, list (filters: status, user, name, limit; paged with the `before` cursor),
 * get, cancel, priority change and `/v1/whoami` (`/v1/status`: routes/status). A role holding `tasks:read`, `tasks:cancel` or `tasks:priority` only as `:own`
 * sees and changes only its user's tasks (see `server/ownership`).
 */
import type { FastifyInstance } from 'fastify';

import { FetchmlError } from '../../core/errors.ts';
import { CreateTaskRequest, SetPriorityRequest, TaskListQuery } from '../../core/schemas/api.ts';
import type { WhoAmIResponse } from '../../core/schemas/api.ts';
import type { RouteContext } from '../context.ts';
import { loadAccessibleTask, principalOf, scopeOf, taskNotFound } from '../ownership.ts';
import { assertTaskId } from '../paths.ts';
import { changePriority } from '../priority.ts';
import { cancelTask, submitTask } from '../task-actions.ts';
import { parseRequest } from '../validate.ts';

type IdParams = { Params: { id: string } };

export function taskRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post(
    '/v1/tasks',
    { config: { permission: 'tasks:create', audit: 'task.create' } },
    async (request, reply) => {
      const input = parseRequest(CreateTaskRequest, request.body, 'body');
      const task = await submitTask(ctx, input, principalOf(request));
      request.auditInfo = {
        target: task.id,
        detail: { name: task.name, commit_id: task.commit_id, priority: task.priority },
      };
      return reply.code(201).send(task);
    },
  );

  app.get('/v1/tasks', { config: { permission: 'tasks:read' } }, async (request) => {
    const q = parseRequest(TaskListQuery, request.query, 'query');
    const p = principalOf(request);
    let user = q.user;
    if (scopeOf(ctx, p, 'tasks:read') !== 'any') {
      if (user !== undefined && user !== p.user) {
        throw new FetchmlError(
          'ML_ERR_FORBIDDEN',
          `role ${p.role} may list only its own tasks (user=${p.user})`,
          { details: { field: 'user' } },
        );
      }
      user = p.user;
    }
    const tasks = await ctx.store.listTasks({
      limit: q.limit,
      ...(q.status ? { status: q.status } : {}),
      ...(user !== undefined ? { user } : {}),
      ...(q.name !== undefined ? { name: q.name } : {}),
      ...(q.before !== undefined ? { beforeId: q.before } : {}),
    });
    return { tasks };
  });

  // The hot read: the stored document is sent as it is (validated by the store), not re-serialised.
  app.get<IdParams>(
    '/v1/tasks/:id',
    { config: { permission: 'tasks:read' } },
    async (request, reply) => {
      const id = assertTaskId(request.params.id);
      if (scopeOf(ctx, principalOf(request), 'tasks:read') !== 'any') {
        return reply.send(await loadAccessibleTask(ctx, request, id));
      }
      const json = await ctx.store.getTaskJson(id);
      if (json === null) throw taskNotFound(id);
      return reply.type('application/json; charset=utf-8').send(json);
    },
  );

  app.post<IdParams>(
    '/v1/tasks/:id/cancel',
    { config: { permission: 'tasks:cancel', audit: 'task.cancel' } },
    async (request) => {
      const id = assertTaskId(request.params.id);
      await loadAccessibleTask(ctx, request, id, 'tasks:cancel');
      const result = await cancelTask(ctx, id);
      request.auditInfo = { detail: { result: result.outcome } };
      return result;
    },
  );

  app.post<IdParams>(
    '/v1/tasks/:id/priority',
    { config: { permission: 'tasks:priority', audit: 'task.priority' } },
    async (request) => {
      const id = assertTaskId(request.params.id);
      const { priority } = parseRequest(SetPriorityRequest, request.body, 'body');
      await loadAccessibleTask(ctx, request, id, 'tasks:priority');
      const result = await changePriority(ctx, id, priority);
      request.auditInfo = { detail: { previous: result.previous, priority } };
      return result;
    },
  );

  app.get('/v1/whoami', { config: { permission: 'self:read' } }, (request) => {
    const p = principalOf(request);
    const out: WhoAmIResponse = { user: p.user, role: p.role, version: ctx.version };
    return out;
  });
}
