/**
 * @module server/auth/audit-step
 * What the API writes to the audit log (`audit/*`, `<home>/logs/audit.log`):
 *
 * - the `audit` step of the auth chain records refusals: `auth.failure` (401: no, a malformed, an
 *   unknown or a revoked key — with the reason, the address and at most the key's first
 *   {@link KEY_HINT_LENGTH} characters, never the key), `auth.forbidden` (403 from the permission
 *   step) and `ban.add` when the refusal banned the address. Refusals by the allowlist, a live ban
 *   or the rate limit are not recorded: anyone could fill the disk with them;
 * - {@link installAuditHook} records every request to a route that declares `config.audit` (the
 *   state-changing ones), after the route ran and before the response is sent (`onSend`), so
 *   the entry is on disk before the client hears of the change. The hook is attached only to
 *   those routes: reads (GET) pay nothing.
 *
 * A route adds its target and facts with `request.auditInfo`. When the log cannot be written the
 * response still goes out (the change is made) and the failure goes to the app log.
 */
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onSendAsyncHookHandler,
  onSendHookHandler,
} from 'fastify';

import type { AuditAction, AuditEvent, AuditLog, AuditOutcome } from '../../audit/index.ts';
import { findApiKey, KEY_PREFIX, keyLookupPrefix } from './api-keys.ts';
import type { AuthContext, AuthStep } from './chain.ts';
import type { KeyStore } from './key-store.ts';

/** Characters of a refused key's secret part kept in `auth.failure` (24 of its 256 bits). */
export const KEY_HINT_LENGTH = 4;

/** What a route adds to its audit entry. */
export interface AuditInfo {
  /** @default the route's `:id` or `:sha256` parameter */
  target?: string;
  detail?: Record<string, unknown>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route changes state: each request to it is recorded in the audit log as this action. */
    audit?: AuditAction;
  }
  interface FastifyRequest {
    /** Set by an audited route: the entry's target and extra facts. */
    auditInfo: AuditInfo | null;
  }
}

/** Why a key was refused, and what may be logged about it. */
async function keyFailure(
  keys: KeyStore,
  token: string | null,
): Promise<{ reason: string; key_hint?: string; key_id?: string; key_user?: string }> {
  if (token === null) return { reason: 'missing_key' };
  const record = await findApiKey(keys, token);
  if (record) {
    const reason = record.revoked_at === null ? 'invalid_key' : 'revoked_key';
    return { reason, key_id: record.id, key_user: record.user };
  }
  if (keyLookupPrefix(token) === null) return { reason: 'malformed_key' };
  return {
    reason: 'unknown_key',
    key_hint: token.slice(0, KEY_PREFIX.length + KEY_HINT_LENGTH),
  };
}

/** The `audit` step: records refusals (see the module comment). */
export function auditStep(audit: AuditLog, keys: KeyStore): AuthStep {
  const request = (ctx: AuthContext) => ({ method: ctx.method, route: ctx.route });
  return {
    name: 'audit',
    run() {},
    async onDenied(ctx, err) {
      const events: AuditEvent[] = [];
      if (err.code === 'ML_ERR_UNAUTHORIZED') {
        events.push({
          actor: 'anonymous',
          ip: ctx.ip,
          action: 'auth.failure',
          outcome: 'denied',
          detail: { code: err.code, ...(await keyFailure(keys, ctx.token)), ...request(ctx) },
        });
      } else if (err.code === 'ML_ERR_FORBIDDEN' && ctx.principal) {
        events.push({
          actor: ctx.principal.user,
          ip: ctx.ip,
          action: 'auth.forbidden',
          target: ctx.route,
          outcome: 'denied',
          detail: {
            code: err.code,
            key_id: ctx.principal.key_id,
            role: ctx.principal.role,
            permission: ctx.permission ?? null,
            ...request(ctx),
          },
        });
      }
      if (ctx.ban) {
        events.push({
          actor: 'system',
          ip: ctx.ip,
          action: 'ban.add',
          target: ctx.ban.ip,
          detail: { until: ctx.ban.until, failures: ctx.ban.failures },
        });
      }
      // Recorded together: one append, one fsync.
      await Promise.all(events.map((e) => audit.record(e)));
    },
  };
}

function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 'ok';
  return status === 401 || status === 403 ? 'denied' : 'error';
}

/** The `code` of an error response body, without parsing all of it. */
function errorCode(payload: unknown): string | undefined {
  if (typeof payload !== 'string') return undefined;
  return /"code":"(ML_ERR_[A-Z0-9_]+)"/.exec(payload)?.[1];
}

function defaultTarget(params: unknown): string | null {
  const p = params as Record<string, unknown> | undefined;
  const value = p?.['id'] ?? p?.['sha256'];
  return typeof value === 'string' ? value : null;
}

/** The entry for a finished request to an audited route. */
export function requestEvent(
  action: AuditAction,
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): AuditEvent | null {
  const principal = request.principal;
  // Refused by the auth chain: the audit step recorded it (or it is not worth recording).
  if (!principal) return null;
  const status = reply.statusCode;
  const info = request.auditInfo;
  const code = status >= 400 ? errorCode(payload) : undefined;
  return {
    actor: principal.user,
    ip: request.ip,
    action,
    target: info?.target ?? defaultTarget(request.params),
    outcome: outcomeOf(status),
    detail: {
      key_id: principal.key_id,
      method: request.method,
      route: request.routeOptions.url ?? request.url,
      status,
      ...(code ? { code } : {}),
      ...info?.detail,
    },
  };
}

/**
 * Attaches the audit `onSend` hook to every route registered after this call that declares
 * `config.audit`. Returns the audited routes (`METHOD url`), which a test compares with the
 * state-changing routes.
 */
export function installAuditHook(app: FastifyInstance, audit: AuditLog): Set<string> {
  const audited = new Set<string>();
  app.decorateRequest('auditInfo', null);
  app.addHook('onRoute', (route) => {
    const action = route.config?.audit;
    if (!action) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) audited.add(`${m} ${route.url}`);
    const hook: onSendAsyncHookHandler = async (request, reply, payload) => {
      const event = requestEvent(action, request, reply, payload);
      if (event) {
        try {
          await audit.record(event);
        } catch (err) {
          request.log.error({ err, audit: event }, 'audit log write failed');
        }
      }
      return payload;
    };
    // Fastify runs an async onSend hook by its returned promise; the route type names only the
    // callback form.
    const asHook = hook as unknown as onSendHookHandler;
    const existing = route.onSend;
    route.onSend = existing
      ? [...(Array.isArray(existing) ? existing : [existing]), asHook]
      : [asHook];
  });
  return audited;
}
