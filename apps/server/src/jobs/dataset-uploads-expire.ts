import { JOB_PAYLOADS } from '../services/job-sender.ts';
import { defineJob } from './job.ts';

/** Ends uploads left open past their expiry: aborts their multipart uploads and deletes what arrived. */
export const datasetUploadsExpireJob = defineJob({
  name: 'dataset.uploads.expire',
  payload: JOB_PAYLOADS['dataset.uploads.expire'],
  retry: { limit: 1, delaySeconds: 60, backoff: false },
  expireInSeconds: 3600,
  concurrency: 1,
  schedule: { cron: '*/15 * * * *', payload: {} },
  handler: async (_payload, ctx) => {
    const expired = await ctx.services.uploads.expireStale();
    if (expired > 0) ctx.logger.info({ expired }, 'expired abandoned uploads');
  },
});
