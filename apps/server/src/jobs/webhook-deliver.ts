import { defineJob } from './job.ts';
import { JOB_PAYLOADS } from '../services/job-sender.ts';

/** pg-boss backs off: attempt n+1 starts delay × 2^(n-1) … 2× that after attempt n failed (5 s, 10 s, 20 s, …, ~10 min in all). */
export const WEBHOOK_RETRY = { limit: 6, delaySeconds: 5, backoff: true };

/** One signed POST per attempt; a non-2xx answer or a network error fails the attempt and retries with backoff. */
export const webhookDeliverJob = defineJob({
  name: 'webhook.deliver',
  payload: JOB_PAYLOADS['webhook.deliver'],
  retry: WEBHOOK_RETRY,
  expireInSeconds: 120,
  concurrency: 4,
  handler: async (payload, ctx) => {
    await ctx.services.webhooks.deliver(payload, ctx.retryCount + 1, ctx.finalAttempt, WEBHOOK_RETRY.delaySeconds);
  },
});
