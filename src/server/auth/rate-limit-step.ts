/**
 * @module server/auth/rate-limit-step
 * The `rate_limit` step: one token per request from the caller's key ({@link RateLimiter}), the
 * limit of its role (`rate_limit_per_min` in the roles file; built-in admin 600, others
 * `security.rate_limit_per_min`, default 30). Every authenticated response carries
 * `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds until full); a refusal is
 * 429 ML_ERR_RATE_LIMITED with `Retry-After`. A WebSocket costs one request, at connect (or at its
 * `auth` message); messages on it are not counted. Runs after the permission step, so a refused
 * request from a valid key is refused for what it is, without spending budget.
 */
import type { RateLimiter } from '../../auth/rate-limit.ts';
import type { RoleTable } from '../../auth/roles.ts';
import { FetchmlError } from '../../core/errors.ts';
import type { AuthStep } from './chain.ts';

/** The rate-limit step. */
export function rateLimitStep(limiter: RateLimiter, roles: RoleTable, fallback: number): AuthStep {
  return {
    name: 'rate_limit',
    run(ctx) {
      const p = ctx.principal;
      if (!p) return;
      const limit = roles.rateLimit(p.role, fallback);
      const d = limiter.take(p.key_id, limit);
      ctx.headers['ratelimit-limit'] = String(d.limit);
      ctx.headers['ratelimit-remaining'] = String(d.remaining);
      ctx.headers['ratelimit-reset'] = String(d.resetS);
      if (d.allowed) return;
      ctx.headers['retry-after'] = String(d.retryAfterS);
      throw new FetchmlError(
        'ML_ERR_RATE_LIMITED',
        `rate limit of ${limit} requests per minute for this API key reached; retry in ${d.retryAfterS}s`,
        { details: { limit, retry_after_s: d.retryAfterS } },
      );
    },
  };
}
