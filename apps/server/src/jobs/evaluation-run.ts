import { evaluationWebhookPayload } from '../services/evaluations/index.ts';
import { JOB_PAYLOADS } from '../services/job-sender.ts';
import { defineJob } from './job.ts';

/** Computes KID/FID/IS of a model version against a dataset version (evaluateModel queues it). */
export const evaluationRunJob = defineJob({
  name: 'evaluation.run',
  payload: JOB_PAYLOADS['evaluation.run'],
  // The work is deterministic: a failure is recorded on the row, not retried. One retry covers a hub
  // that died mid-evaluation (the job expires and runs again from the start).
  retry: { limit: 1, delaySeconds: 30, backoff: false },
  expireInSeconds: 6 * 3600,
  // Evaluations wait in the sampling pool's fair queue; two here let one team's evaluation not block another's.
  concurrency: 2,
  handler: async ({ evaluationId }, ctx) => {
    const finished = await ctx.services.evaluations.run(evaluationId, ctx.logger);
    if (finished)
      await ctx.services.webhooks.emit(finished.teamId, 'evaluation.finished', evaluationWebhookPayload(finished), {
        deliveryKey: `evaluation.finished:${finished.id}`,
      });
  },
  onExhausted: async ({ evaluationId }, ctx) => {
    const failed = await ctx.services.evaluations.fail(
      evaluationId,
      'the evaluation stopped before it finished, on every attempt (the hub stopped or crashed)',
    );
    if (failed)
      await ctx.services.webhooks.emit(failed.teamId, 'evaluation.finished', evaluationWebhookPayload(failed), {
        deliveryKey: `evaluation.finished:${failed.id}`,
      });
  },
});
