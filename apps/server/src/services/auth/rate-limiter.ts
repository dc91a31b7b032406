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

  /** Seconds until the key may try again, or 0 when it is not locked. */
  retryAfterSeconds(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.opts.maxFailures) return 0;
    const oldest = recent[recent.length - this.opts.maxFailures] ?? this.now();
    return Math.max(1, Math.ceil((oldest + this.opts.windowMs - this.now()) / 1000));
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
