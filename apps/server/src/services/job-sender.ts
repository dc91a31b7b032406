import { WEBHOOK_EVENTS } from '@dapple/db';
import { z } from 'zod';

/** storage.housekeeping: abandoned uploads and leftovers of a crash older than this are removed. */
export const STORAGE_STALE_AFTER_MS = 7 * 24 * 3600_000;

/**
 * Every background job's name and payload: what services need to queue work. The jobs themselves
 * (retry policy, handler calling a service) are defined in jobs/, above the services; jobs/catalog.ts
 * pairs each name here with its definition, and the compiler checks that none is missing.
 */
export const JOB_PAYLOADS = {
  /** Turns a completed upload into a ready (or failed) dataset version. */
  'dataset.prepare': z.object({ versionId: z.uuid() }),
  'dataset.uploads.expire': z.object({}),
  /** One delivery of a webhook event (all its attempts). */
  'webhook.deliver': z.object({
    webhookId: z.uuid(),
    deliveryId: z.uuid(),
    event: z.enum(WEBHOOK_EVENTS),
    occurredAt: z.string(),
    data: z.record(z.string(), z.unknown()),
  }),
  'evaluation.run': z.object({ evaluationId: z.uuid() }),
  'storage.housekeeping': z.object({ olderThanMs: z.number().int().min(0).default(STORAGE_STALE_AFTER_MS) }),
};

export type JobName = keyof typeof JOB_PAYLOADS;
/** What `send` takes (defaults not yet applied). */
export type JobPayload<N extends JobName> = z.input<(typeof JOB_PAYLOADS)[N]>;
/** What a handler gets (validated, defaults applied). */
export type ParsedJobPayload<N extends JobName> = z.output<(typeof JOB_PAYLOADS)[N]>;

/** What services use to queue work; implemented by jobs/queue.ts (JobQueue). */
export interface JobSender {
  /** Validates the payload and queues the job; returns its id. */
  send<N extends JobName>(name: N, payload: JobPayload<N>): Promise<string>;
}
