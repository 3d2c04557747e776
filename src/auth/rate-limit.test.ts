import { describe, expect, it } from 'vitest';

import { RateLimiter } from './rate-limit.ts';

describe('token bucket', () => {
  it('allows a burst of `limit`, then refills at limit per minute', () => {
    let now = 1_000_000;
    const rl = new RateLimiter(() => now);
    for (let i = 0; i < 30; i++) {
      const d = rl.take('k', 30);
      expect(d.allowed).toBe(true);
      expect(d.remaining).toBe(29 - i);
    }
    const refused = rl.take('k', 30);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterS: 2, resetS: 60 });
    now += 2000; // one token back
    expect(rl.take('k', 30)).toMatchObject({ allowed: true, remaining: 0 });
    expect(rl.take('other', 30).remaining).toBe(29); // per key
    now += 60_000;
    expect(rl.take('k', 30)).toMatchObject({ allowed: true, remaining: 29, resetS: 2 });
  });

  it('a changed limit starts a fresh bucket', () => {
    const rl = new RateLimiter(() => 0);
    rl.take('k', 1);
    expect(rl.take('k', 1).allowed).toBe(false);
    expect(rl.take('k', 5)).toMatchObject({ allowed: true, remaining: 4 });
  });
});
