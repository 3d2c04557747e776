/**
 * @module server/auth/permission-step
 * The `permission` step: every registered route declares the permission it needs (route config
 * `{ permission: 'tasks:read' }`); the caller's role must hold it at some scope (`own` or `any`,
 * see `auth/roles`). A registered route that declares none is refused (fail closed), so a route
 * added without a permission cannot leak; unknown URLs pass on to the 404 handler.
 */
import type { RoleTable } from '../../auth/roles.ts';
import { FetchmlError } from '../../core/errors.ts';
import type { AuthStep } from './chain.ts';

/** The permission step over `roles`. */
export function permissionStep(roles: RoleTable): AuthStep {
  return {
    name: 'permission',
    run(ctx) {
      if (ctx.permission === undefined) return; // no such route: 404 follows
      const p = ctx.principal;
      if (!p) throw new FetchmlError('ML_ERR_UNAUTHORIZED', 'not authenticated');
      if (ctx.permission === null) {
        throw new FetchmlError(
          'ML_ERR_FORBIDDEN',
          `${ctx.method} ${ctx.route} declares no permission; refused`,
        );
      }
      if (roles.scope(p.role, ctx.permission) === null) {
        throw new FetchmlError(
          'ML_ERR_FORBIDDEN',
          `role ${p.role} lacks permission ${ctx.permission} (${ctx.method} ${ctx.route})`,
          { details: { permission: ctx.permission, role: p.role } },
        );
      }
    },
  };
}
