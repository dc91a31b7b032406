import type { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { Services } from '../services/index.ts';

/** How pg-boss retries a failed or expired job. */
export interface RetryPolicy {
  /** Retries after the first attempt (0 = run once). */
  limit: number;
  delaySeconds: number;
  /** Double the delay after each failure. */
  backoff: boolean;
}

/** What a handler gets besides its payload. */
export interface JobContext {
  services: Services;
  logger: Logger;
  jobId: string;
  /** 0 on the first attempt. */
  retryCount: number;
  /** True when a failure now is final (no retry follows): handlers record the failure for users then. */
  finalAttempt: boolean;
  /** Aborted when the hub stops: stop early and throw; the job is retried later. */
  signal: AbortSignal;
}

/**
 * One background job: its queue name, payload schema (validated on send and again on receipt),
 * retry policy, and a handler that calls a service. Handlers must be idempotent: a job can run again
 * after a crash (expiry) or a failure.
 */
export interface JobDefinition<P extends z.ZodType = z.ZodType> {
  name: string;
  payload: P;
  retry: RetryPolicy;
  /** A running job not finished after this long is treated as crashed and retried. */
  expireInSeconds: number;
  /** Jobs of this kind run at once in one hub. */
  concurrency: number;
  handler: (payload: z.output<P>, ctx: JobContext) => Promise<void>;
  /** Also run on a schedule (pg-boss cron, once per schedule across all hubs), with this payload. */
  schedule?: { cron: string; payload: z.input<P> };
  /**
   * Called once when the job will not run again: every attempt failed, or the last one expired (the process
   * died mid-job). Record the failure for users here; it runs from the `<name>.exhausted` dead-letter queue.
   */
  onExhausted?: (payload: z.output<P>, ctx: Omit<JobContext, 'finalAttempt' | 'retryCount'>) => Promise<void>;
}

/** Typed identity: keeps the payload type of `payload` flowing into `handler`. */
export function defineJob<P extends z.ZodType>(definition: JobDefinition<P>): JobDefinition<P> {
  return definition;
}
