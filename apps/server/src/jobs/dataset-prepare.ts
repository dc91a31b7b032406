import { JOB_PAYLOADS } from '../services/job-sender.ts';
import { defineJob } from './job.ts';

/** Turns a completed upload into a ready (or failed) dataset version. */
export const datasetPrepareJob = defineJob({
  name: 'dataset.prepare',
  payload: JOB_PAYLOADS['dataset.prepare'],
  // Retries cover transient store or database errors and a hub that died mid-job; a refused upload fails at once.
  retry: { limit: 2, delaySeconds: 10, backoff: true },
  expireInSeconds: 4 * 3600,
  // prepareDataset already uses every core for decoding.
  concurrency: 1,
  handler: async ({ versionId }, ctx) => {
    await ctx.services.datasetPrepare.run(versionId, {
      logger: ctx.logger,
      signal: ctx.signal,
      finalAttempt: ctx.finalAttempt,
    });
  },
  // Reached when the last attempt died (hub killed, expiry) before it could record anything.
  onExhausted: async ({ versionId }, ctx) => {
    await ctx.services.datasetPrepare.abandon(
      versionId,
      'Preparation stopped before it finished, on every attempt (the hub stopped or crashed); upload the files again',
    );
  },
});
