import type { z } from 'zod';
import { datasetPrepareJob } from './dataset-prepare.ts';
import { datasetUploadsExpireJob } from './dataset-uploads-expire.ts';
import { evaluationRunJob } from './evaluation-run.ts';
import type { JobDefinition } from './job.ts';
import { storageHousekeepingJob } from './storage-housekeeping.ts';
import { webhookDeliverJob } from './webhook-deliver.ts';

/**
 * Every background job of the hub, by queue name. To add one: write `jobs/<name>.ts` with
 * `defineJob({ name, payload, retry, expireInSeconds, concurrency, handler })` and add it here;
 * `services.jobs.send('<name>', payload)` is then typed by its payload schema.
 */
export const JOB_CATALOG = {
  'dataset.prepare': datasetPrepareJob,
  'dataset.uploads.expire': datasetUploadsExpireJob,
  'webhook.deliver': webhookDeliverJob,
  'evaluation.run': evaluationRunJob,
  'storage.housekeeping': storageHousekeepingJob,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry keeps its own payload type
} satisfies Record<string, JobDefinition<any>>;

export type JobName = keyof typeof JOB_CATALOG;
export type JobPayload<N extends JobName> = z.input<(typeof JOB_CATALOG)[N]['payload']>;

/** What services use to queue work; implemented by JobQueue. */
export interface JobSender {
  /** Validates the payload and queues the job; returns its id. */
  send<N extends JobName>(name: N, payload: JobPayload<N>): Promise<string>;
}
