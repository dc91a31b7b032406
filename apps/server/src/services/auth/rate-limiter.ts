export interface FailureRateLimiterOptions {
  /** Failures allowed inside the window before the key is locked. */
  maxFailures: number;
  windowMs: number;
  now?: () => number;
}

/**
 * Counts failures per key (e.g. sign-in email + IP) in a sliding window.
 * In-process only: with several hub replicas each one counts on its own.
 */
export class FailureRateLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(private readonly opts: FailureRateLimiterOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Seconds until the key may try again, or 0 when it is not locked. Locked while `maxFailures` fall inside the
   * window, and with backoff beyond that: each failure past the limit (attempts once a lock ends) doubles the wait
   * after it, from 1 s up to the window.
   */
  retryAfterSeconds(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.opts.maxFailures) return 0;
    const now = this.now();
    const oldest = recent[recent.length - this.opts.maxFailures] ?? now;
    const last = recent[recent.length - 1] ?? now;
    const backoffMs = Math.min(this.opts.windowMs, 1000 * 2 ** (recent.length - this.opts.maxFailures));
    const until = Math.max(oldest + this.opts.windowMs, last + backoffMs);
    return Math.max(1, Math.ceil((until - now) / 1000));
  }

  recordFailure(key: string): void {
    const recent = this.recent(key);
    recent.push(this.now());
    this.failures.set(key, recent);
    if (this.failures.size > 10_000) this.prune();
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const cutoff = this.now() - this.opts.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > cutoff);
  }

  private prune(): void {
    for (const key of [...this.failures.keys()]) {
      const recent = this.recent(key);
      if (recent.length === 0) this.failures.delete(key);
      else this.failures.set(key, recent);
    }
  }
}
