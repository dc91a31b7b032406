import { TrainerApiError, TrainerClient } from '@dapple/contracts/trainer-client';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Network errors and 5xx are retried (the hub may be restarting); 4xx are final. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof TrainerApiError) return err.status >= 500 || err.status === 429;
  return true;
}

/**
 * Retries a hub call with backoff (250 ms doubling to 5 s) for up to `deadlineMs`, default 10 minutes: a hub
 * restart or a database outage of minutes must not kill a training run (the hub re-adopts the process and the
 * same URL answers again; the hub does not mark a trainer lost while it could not record heartbeats). Metrics and
 * heartbeats do not wait here: the Reporter buffers metric points (bounded) and keeps trying on its timer.
 */
export async function withRetry<T>(
  what: string,
  fn: () => Promise<T>,
  log: (msg: string) => void,
  deadlineMs = 600_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let delay = 250;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || Date.now() + delay > deadline) throw err;
      log(`${what} failed (${(err as Error).message}); retrying in ${delay} ms`);
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }
}

export { TrainerApiError, TrainerClient };
