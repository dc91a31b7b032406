import { TrainerApiError, TrainerClient } from '@dapple/contracts/trainer-client';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Network errors and 5xx are retried (the hub may be restarting); 4xx are final. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof TrainerApiError) return err.status >= 500 || err.status === 429;
  return true;
}

/**
 * Retries a hub call with backoff for up to `deadlineMs`: a hub restart must not kill a training run
 * (the new hub re-adopts the process and the same URL starts answering again).
 */
export async function withRetry<T>(
  what: string,
  fn: () => Promise<T>,
  log: (msg: string) => void,
  deadlineMs = 120_000,
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
