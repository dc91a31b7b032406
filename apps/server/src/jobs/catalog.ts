import type { JOB_PAYLOADS, JobName } from '../services/job-sender.ts';
import { datasetPrepareJob } from './dataset-prepare.ts';
import { datasetUploadsExpireJob } from './dataset-uploads-expire.ts';
import { evaluationRunJob } from './evaluation-run.ts';
import type { JobDefinition } from './job.ts';
import { storageHousekeepingJob } from './storage-housekeeping.ts';
import { webhookDeliverJob } from './webhook-deliver.ts';

/**
 * Every background job of the hub, by queue name. To add one: give its payload schema a name in
 * services/job-sender.ts (JOB_PAYLOADS), write `jobs/<name>.ts` with
 * `defineJob({ name, payload: JOB_PAYLOADS['<name>'], retry, expireInSeconds, concurrency, handler })` and add it
 * here (the compiler refuses a catalog that misses a name); `services.jobs.send('<name>', payload)` is then typed
 * by its payload schema.
 */
export const JOB_CATALOG = {
  'dataset.prepare': datasetPrepareJob,
  'dataset.uploads.expire': datasetUploadsExpireJob,
  'webhook.deliver': webhookDeliverJob,
  'evaluation.run': evaluationRunJob,
  'storage.housekeeping': storageHousekeepingJob,
} satisfies { [N in JobName]: JobDefinition<(typeof JOB_PAYLOADS)[N]> };
