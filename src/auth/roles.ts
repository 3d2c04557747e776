/**
 * @module auth/roles
 * Roles → permissions (RBAC). A permission is `resource:action` (`tasks:create`), optionally
 * scoped `:own` or `:any` (`tasks:read:own`). A grant of `resource:action` or `resource:action:any`
 * allows the action on everyone's objects; `:own` only on the caller's; `resource:*` every action
 * on a resource and `*` everything. Routes declare the unscoped permission (`tasks:read`); the
 * permission step lets a request through when the role holds any scope of it, and the route narrows
 * to own objects when the scope is `own` ({@link RoleTable.scope}).
 *
 * The table comes from a YAML file (`<home>/roles.yaml` or `security.roles_file`) read once at
 * server start, or from {@link DEFAULT_ROLES} when the file is absent. Answers are memoised per
 * (role, permission), so a request costs one Map lookup, never a parse or a file read.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { FetchmlError } from '../core/errors.ts';

/** Every permission a route may declare (unscoped). */
export const PERMISSIONS = [
  'tasks:create',
  'tasks:read',
  'tasks:cancel',
  /** `POST /v1/tasks/:id/priority` (queued tasks only). */
  'tasks:priority',
  'blobs:read',
  'blobs:write',
  'commits:read',
  'commits:write',
  'status:read',
  'users:admin',
  /** Any live key: `/v1/whoami`. */
  'self:read',
  /** `GET /metrics` (Prometheus). */
  'metrics:read',
  /** List, show and verify datasets (`GET /v1/datasets…`, `POST /v1/datasets/:name/verify`). */
  'data:read',
  /** Upload datasets; `:own` adds versions only to names whose first version the caller made. */
  'data:write',
  /** `POST /v1/imports`: load an exported task (recorded as imported, read-only). */
  'tasks:import',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** How far a grant reaches: everyone's objects, only the caller's, or not at all. */
export type Scope = 'any' | 'own' | null;

export interface RoleDefinition {
  permissions: string[];
  /** Requests per minute per key of this role; absent: `security.rate_limit_per_min`. */
  rate_limit_per_min?: number;
}

/**
 * The built-in roles, used when no roles file exists. `admin` may do everything and gets a higher
 * rate limit (600/min) because operators, scripts and the benches use its key. `researcher` runs
 * and follows its own tasks, uploads code, reads every dataset, uploads its own and imports
 * exported tasks. `viewer` reads everything and changes nothing (a dashboard, a supervisor, or
 * Prometheus scraping `/metrics`).
 */
export const DEFAULT_ROLES: Readonly<Record<string, RoleDefinition>> = {
  admin: { permissions: ['*'], rate_limit_per_min: 600 },
  researcher: {
    permissions: [
      'tasks:create',
      'tasks:read:own',
      'tasks:cancel:own',
      'tasks:priority:own',
      'blobs:read',
      'blobs:write',
      'commits:read',
      'commits:write',
      'status:read',
      'self:read',
      'data:read',
      'data:write:own',
      'tasks:import',
    ],
  },
  viewer: {
    permissions: [
      'tasks:read:any',
      'blobs:read',
      'commits:read',
      'status:read',
      'self:read',
      'data:read',
      'metrics:read',
    ],
  },
};

const GRANT_RE = /^(\*|[a-z]+:(\*|[a-z]+(:(own|any))?))$/;
const RolesFile = z.strictObject({
  roles: z.record(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
    z.strictObject({
      permissions: z.array(
        z.string().regex(GRANT_RE, 'not a permission (resource:action[:own|:any])'),
      ),
      rate_limit_per_min: z.number().int().positive().optional(),
    }),
  ),
});

/** A compiled role table. */
export interface RoleTable {
  /** Role names, sorted. */
  readonly names: readonly string[];
  /** How far `role` may do `permission`; unknown roles get null. */
  scope(role: string, permission: string): Scope;
  /** The role's rate limit per minute, or `fallback`. */
  rateLimit(role: string, fallback: number): number;
  /** Where the table came from: a file path or `built-in`. */
  readonly source: string;
}

function scopeOf(grants: readonly string[], permission: string): Scope {
  const [resource] = permission.split(':');
  let own = false;
  for (const g of grants) {
    if (g === '*' || g === `${resource}:*` || g === permission || g === `${permission}:any`) {
      return 'any';
    }
    if (g === `${permission}:own`) own = true;
  }
  return own ? 'own' : null;
}

/** Compiles role definitions into a {@link RoleTable}. */
export function compileRoles(
  roles: Readonly<Record<string, RoleDefinition>>,
  source = 'built-in',
): RoleTable {
  const memo = new Map<string, Scope>();
  return {
    names: Object.keys(roles).sort(),
    source,
    scope(role, permission) {
      const k = `${role}\0${permission}`;
      let s = memo.get(k);
      if (s === undefined) {
        const def = Object.hasOwn(roles, role) ? roles[role] : undefined;
        s = def ? scopeOf(def.permissions, permission) : null;
        memo.set(k, s);
      }
      return s;
    },
    rateLimit(role, fallback) {
      return (Object.hasOwn(roles, role) ? roles[role]?.rate_limit_per_min : undefined) ?? fallback;
    },
  };
}

/** Parses a roles file's text (`roles: {name: {permissions: [...], rate_limit_per_min?}}`). */
export function parseRolesFile(text: string, path: string): RoleTable {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    throw new FetchmlError('ML_ERR_CONFIG_INVALID', `${path}: not valid YAML`, { cause });
  }
  const parsed = RolesFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FetchmlError(
      'ML_ERR_CONFIG_INVALID',
      `${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      { cause: parsed.error },
    );
  }
  return compileRoles(parsed.data.roles, path);
}

/** Loads `path` when it exists, else the built-in roles. */
export async function loadRoles(path: string): Promise<RoleTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return compileRoles(DEFAULT_ROLES);
    throw err;
  }
  return parseRolesFile(text, path);
}
