/**
 * @module server/ownership
 * Ownership checks for task routes. When the caller's role holds a task permission only as `:own`,
 * a task of another user answers exactly like a task that does not exist (404
 * ML_ERR_TASK_NOT_FOUND, same message): a refusal that said "forbidden" would confirm the id.
 */
import type { FastifyRequest } from 'fastify';

import type { Permission, Scope } from '../auth/roles.ts';
import { FetchmlError } from '../core/errors.ts';
import type { Task } from '../core/schemas/task.ts';
import type { RouteContext } from './context.ts';
import { loadTask } from './task-actions.ts';
import type { Principal } from './types.ts';

/** The request's principal (set by the auth chain on every non-public route). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new FetchmlError('ML_ERR_UNAUTHORIZED', 'not authenticated');
  return request.principal;
}

/** How far `principal` holds `permission`. */
export function scopeOf(ctx: RouteContext, principal: Principal, permission: Permission): Scope {
  return ctx.roles.scope(principal.role, permission);
}

/** The not-found error for task `id` (identical for absent and not-yours). */
export function taskNotFound(id: string): FetchmlError {
  return new FetchmlError('ML_ERR_TASK_NOT_FOUND', `no such task: ${id}`, {
    details: { task_id: id },
  });
}

/** Whether `principal` may see `task` under `permission`. */
export function mayAccess(
  ctx: RouteContext,
  principal: Principal,
  permission: Permission,
  task: Pick<Task, 'user'>,
): boolean {
  const scope = scopeOf(ctx, principal, permission);
  return scope === 'any' || (scope === 'own' && task.user === principal.user);
}

/** Loads task `id` when the request's principal may do `permission` on it, else not found. */
export async function loadAccessibleTask(
  ctx: RouteContext,
  request: FastifyRequest,
  id: string,
  permission: Permission = 'tasks:read',
): Promise<Task> {
  const task = await loadTask(ctx, id);
  if (!mayAccess(ctx, principalOf(request), permission, task)) throw taskNotFound(id);
  return task;
}
