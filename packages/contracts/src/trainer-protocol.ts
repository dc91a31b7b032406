/**
 * The hub ⇄ trainer protocol (REST + JSON under `/api/trainer/v1`, Bearer run token). Both sides parse
 * with these schemas; bump TRAINER_PROTOCOL_VERSION (and the path) on any incompatible change.
 */
import { z } from 'zod';

export const TRAINER_PROTOCOL_VERSION = 1;
export const TRAINER_API_PREFIX = `/api/trainer/v${TRAINER_PROTOCOL_VERSION}`;
export const MAX_METRIC_POINTS_PER_BATCH = 1000;
export const CHECKPOINT_FILES = ['model.json', 'weights.bin'] as const;

const step = z.number().int().min(0);

export const PresignedSchema = z.object({
  url: z.string(),
  method: z.string(),
  headers: z.record(z.string(), z.string()),
});
export type Presigned = z.infer<typeof PresignedSchema>;

export const AssignmentSchema = z.object({
  protocol: z.literal(TRAINER_PROTOCOL_VERSION),
  run: z.object({
    id: z.string(),
    name: z.string(),
    attempt: z.number().int(),
    seed: z.number().int(),
    /** Raw RunConfig JSON: parse it with RunConfigSchema. */
    config: z.unknown(),
    /** Image channels of the dataset (the model's in/out channels). */
    channels: z.number().int(),
  }),
  dataset: z.object({
    versionId: z.string(),
    /** manifest.json of the version: parse it with @dapple/datasets' parseManifest. */
    manifest: z.unknown(),
  }),
  /** The checkpoint to start from (this run's latest, or the parent's at fromStep for a fork); null = from scratch. */
  resumeFrom: z
    .object({
      runId: z.string(),
      step,
      files: z.object({ 'model.json': PresignedSchema, 'weights.bin': PresignedSchema }),
    })
    .nullable(),
  /**
   * Fine-tuning: the published model version whose weights (EMA inference weights, `dapple-inference`
   * format) the run starts from at step 0 with a fresh optimizer. Only set while the run has no checkpoint of
   * its own (then resumeFrom wins). Absent from older hubs.
   */
  baseModel: z
    .object({
      versionId: z.string(),
      name: z.string(),
      number: z.number().int(),
      files: z.object({ 'model.json': PresignedSchema, 'weights.bin': PresignedSchema }),
      /**
       * Class-conditional fine-tunes: for each of the dataset's labels (index i), the base's label-embedding row
       * it starts from, so a class keeps its meaning when the two label lists share names in another order.
       * Null: row i stays row i (unconditional, the same order, or a base without label names). Absent from
       * older hubs.
       */
      labelRows: z.array(z.number().int().min(0)).nullable().default(null),
    })
    .nullable()
    .default(null),
});
export type Assignment = z.infer<typeof AssignmentSchema>;

export const ShardUrlRequestSchema = z.strictObject({
  name: z.string().regex(/^shard-\d{5}\.bin$/, 'must be a shard name like shard-00000.bin'),
});

export const HeartbeatSchema = z.strictObject({
  step,
  imagesPerSec: z.number().min(0).nullable().optional(),
  /** Set once the model is built and training started (starting → running). */
  phase: z.enum(['loading', 'training', 'sampling', 'checkpointing', 'stopping']).optional(),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;
export const HeartbeatReplySchema = z.object({ cancelRequested: z.boolean() });

/** JSON has no NaN/Infinity: trainers send non-finite values as these strings (a diverged loss is worth seeing). */
export const NON_FINITE_VALUES = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
} as const;
export type WireMetricValue = number | keyof typeof NON_FINITE_VALUES;
export const toWireValue = (v: number): WireMetricValue =>
  Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';

export interface MetricPoint {
  key: string;
  step: number;
  value: number;
}
export interface WireMetricPoint {
  key: string;
  step: number;
  value: WireMetricValue;
}

/**
 * The JSON body of `POST /metrics`. TrainerClient sends the binary form instead (metric-batch.ts, content
 * type METRIC_BATCH_CONTENT_TYPE); this one stays accepted. Only the envelope is checked with zod: a
 * batch is up to 1000 points, so each point is checked by `parseMetricPoints` (fast path) and again by
 * the metrics store, which names the bad field.
 */
export const MetricBatchSchema = z.strictObject({
  points: z
    .array(z.unknown())
    .max(MAX_METRIC_POINTS_PER_BATCH, `at most ${MAX_METRIC_POINTS_PER_BATCH} points per batch`),
});

/** Wire points → points; throws `{ field, message }` on the first malformed one. */
export function parseMetricPoints(raw: unknown[]): MetricPoint[] {
  const out = new Array<MetricPoint>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const p = raw[i] as Partial<WireMetricPoint> | null;
    if (p === null || typeof p !== 'object' || Array.isArray(p))
      throw Object.assign(new Error(`points.${i}: must be an object {key, step, value}`), { field: `points.${i}` });
    for (const k of Object.keys(p))
      if (k !== 'key' && k !== 'step' && k !== 'value')
        throw Object.assign(new Error(`points.${i}.${k}: unknown field`), { field: `points.${i}.${k}` });
    const v = p.value;
    const value =
      typeof v === 'number' ? v : typeof v === 'string' && v in NON_FINITE_VALUES ? NON_FINITE_VALUES[v] : undefined;
    if (value === undefined)
      throw Object.assign(new Error(`points.${i}.value: must be a number or "NaN", "Infinity", "-Infinity"`), {
        field: `points.${i}.value`,
      });
    out[i] = { key: p.key as string, step: p.step as number, value };
  }
  return out;
}

const fileSize = z
  .number()
  .int()
  .min(1)
  .max(20 * 1024 ** 3);
export const CheckpointUploadRequestSchema = z.strictObject({
  step,
  files: z.strictObject({ 'model.json': fileSize, 'weights.bin': fileSize }),
});
export const CheckpointUploadReplySchema = z.object({
  files: z.object({ 'model.json': PresignedSchema, 'weights.bin': PresignedSchema }),
});
export const CheckpointCommitSchema = CheckpointUploadRequestSchema;
export const CheckpointCommitReplySchema = z.object({ kept: z.array(step), deleted: z.array(step) });

export const SampleUploadRequestSchema = z.strictObject({
  step,
  size: z
    .number()
    .int()
    .min(1)
    .max(64 * 1024 ** 2),
});
export const SampleCommitSchema = SampleUploadRequestSchema.extend({
  width: z.number().int().min(1),
  height: z.number().int().min(1),
  seeds: z.array(z.number().int()).min(1).max(256),
});

export const FinishSchema = z.strictObject({
  /** succeeded: all steps done and the final checkpoint committed; stopped: left on SIGTERM; failed: an error. */
  outcome: z.enum(['succeeded', 'stopped', 'failed']),
  step,
  error: z.string().max(4000).optional(),
});
export type Finish = z.infer<typeof FinishSchema>;

export const TrainerErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});
export type TrainerErrorBody = z.infer<typeof TrainerErrorSchema>;

/** Environment variable names the executor sets for the trainer process (nothing else is passed). */
export const TRAINER_ENV = { hubUrl: 'DAPPLE_HUB_URL', runId: 'DAPPLE_RUN_ID', runToken: 'DAPPLE_RUN_TOKEN' } as const;
