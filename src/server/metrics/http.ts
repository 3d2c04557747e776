/**
 * @module server/metrics/http
 * API request metrics, from Fastify hooks: every answered request is counted and timed by method,
 * route pattern (`/v1/tasks/:id`, never the raw URL, so ids do not explode the label set;
 * `unmatched` for a 404 without a route) and status code. Refusals by the security chain or a
 * permission check are counted by error code (`fetchml_auth_denials_total`), 401s also as
 * authentication failures. The `/metrics` scrape itself is counted like any request.
 */
import type { FastifyInstance } from 'fastify';

import type { ServerMetrics } from './registry.ts';

/** Error codes counted as denials (the security chain's and the ownership checks'). */
const DENIAL_CODES = new Set([
  'ML_ERR_UNAUTHORIZED',
  'ML_ERR_FORBIDDEN',
  'ML_ERR_IP_NOT_ALLOWED',
  'ML_ERR_IP_BANNED',
  'ML_ERR_RATE_LIMITED',
]);
const DENIAL_STATUSES = new Set([401, 403, 429]);

/** The error code of a JSON error body, or null. Only called for 401/403/429 answers. */
function errorCode(payload: unknown): string | null {
  if (typeof payload !== 'string' || !payload.startsWith('{"error"')) return null;
  try {
    const code = (JSON.parse(payload) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : null;
  } catch {
    return null;
  }
}

/** Installs the hooks (call before routes are registered). */
export function installHttpMetrics(app: FastifyInstance, metrics: ServerMetrics): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    if (DENIAL_STATUSES.has(reply.statusCode)) {
      const code = errorCode(payload);
      if (code !== null && DENIAL_CODES.has(code)) {
        metrics.authDenials.inc({ code });
        if (code === 'ML_ERR_UNAUTHORIZED') metrics.authFailures.inc();
      }
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
}
