/**
 * @module auth/rate-limit
 * A token bucket per API key: `limit` tokens, refilled continuously at `limit` per minute, one
 * token per request. A full bucket allows a burst of `limit` requests (a sync's handful of batch
 * requests), then one request every `60/limit` s. Buckets live in memory (a restart refills them)
 * and a full bucket carries no information, so full ones are dropped when the map grows.
 * A request costs one Map lookup and a little arithmetic.
 */

/** The outcome of one {@link RateLimiter.take}, with what the `RateLimit-*` headers report. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetS: number;
  /** Seconds until the next request is allowed (0 when allowed now). */
  retryAfterS: number;
}

interface Bucket {
  tokens: number;
  at: number;
  limit: number;
}

/** Buckets kept before full (idle) ones are dropped. */
const PRUNE_AT = 10_000;

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  /** Spends one token of `key`'s bucket (capacity `limit`, refilled at `limit` per minute). */
  take(key: string, limit: number): RateDecision {
    const now = this.#clock();
    const perMs = limit / 60_000;
    let b = this.#buckets.get(key);
    if (!b || b.limit !== limit) {
      if (!b && this.#buckets.size >= PRUNE_AT) this.#prune(now);
      b = { tokens: limit, at: now, limit };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(limit, b.tokens + (now - b.at) * perMs);
      b.at = now;
    }
    const allowed = b.tokens >= 1;
    if (allowed) b.tokens -= 1;
    return {
      allowed,
      limit,
      remaining: Math.floor(b.tokens),
      resetS: Math.ceil((limit - b.tokens) / perMs / 1000),
      retryAfterS: allowed ? 0 : Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)),
    };
  }

  #prune(now: number): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * (b.limit / 60_000) >= b.limit) this.#buckets.delete(k);
    }
  }
}
