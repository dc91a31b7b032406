import { describe, expect, it } from 'vitest';
import { FailureRateLimiter } from './rate-limiter.ts';

describe('FailureRateLimiter', () => {
  it('locks a key after maxFailures inside the window and frees it as failures age out', () => {
    let now = 0;
    const limiter = new FailureRateLimiter({ maxFailures: 3, windowMs: 1000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterSeconds('k')).toBe(0);
      limiter.recordFailure('k');
      now += 100;
    }
    expect(limiter.retryAfterSeconds('k')).toBe(1); // the first failure (t=0) ages out at t=1000
    expect(limiter.retryAfterSeconds('other')).toBe(0);
    now = 1001;
    expect(limiter.retryAfterSeconds('k')).toBe(0);
  });

  it('reset clears the key', () => {
    const limiter = new FailureRateLimiter({ maxFailures: 1, windowMs: 60_000 });
    limiter.recordFailure('k');
    expect(limiter.retryAfterSeconds('k')).toBeGreaterThan(0);
    limiter.reset('k');
    expect(limiter.retryAfterSeconds('k')).toBe(0);
  });
});
