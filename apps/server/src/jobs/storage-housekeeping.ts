import { JOB_PAYLOADS } from '../services/job-sender.ts';
import { defineJob } from './job.ts';

/**
 * Daily object-store housekeeping. The disk store keeps multipart parts and temp files in its own
 * folders and cleans them only here. S3 keeps incomplete multipart uploads of a crashed hub until a
 * bucket lifecycle rule (AbortIncompleteMultipartUpload) removes them: see README, "Production".
 */
export const storageHousekeepingJob = defineJob({
  name: 'storage.housekeeping',
  payload: JOB_PAYLOADS['storage.housekeeping'],
  retry: { limit: 1, delaySeconds: 600, backoff: false },
  expireInSeconds: 3600,
  concurrency: 1,
  schedule: { cron: '41 3 * * *', payload: {} },
  handler: async ({ olderThanMs }, ctx) => {
    const store = ctx.services.objectStore;
    if (!store.removeStale) return;
    const removed = await store.removeStale(olderThanMs);
    if (Object.values(removed).some((n) => n > 0)) ctx.logger.info({ removed }, 'removed stale object-store leftovers');
  },
});
