import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.ts';
import { datasetVersions } from './datasets.ts';
import { runs } from './runs.ts';
import { teams } from './teams.ts';
import { users } from './users.ts';

/**
 * team: every member of the owning team, by team role (default).
 * private: only the team's admins/owners, the model's creator and explicit shares.
 * public: additionally every signed-in user of this hub may read and sample.
 */
export const MODEL_VISIBILITIES = ['private', 'team', 'public'] as const;
export type ModelVisibility = (typeof MODEL_VISIBILITIES)[number];
export const modelVisibility = pgEnum('model_visibility', MODEL_VISIBILITIES);

export const models = pgTable(
  'models',
  {
    id: id(),
    teamId: uuid('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    visibility: modelVisibility('visibility').notNull().default('team'),
    /** Highest version number ever given; numbers are never reused, even after a version is deleted. */
    lastVersionNumber: integer('last_version_number').notNull().default(0),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    ...timestamps(),
  },
  (t) => [uniqueIndex('models_team_name_key').on(t.teamId, t.name)],
);

/**
 * What a sampler needs to rebuild the model: for a DDPM (architecture absent or 'ddpm') the UNet config, noise
 * schedule and prediction type; for a Glow (architecture 'glow') the flow's config under `glow`.
 */
export interface ModelVersionConfig {
  architecture?: 'ddpm' | 'glow';
  unet?: Record<string, unknown>;
  glow?: Record<string, unknown>;
  schedule?: Record<string, unknown>;
  predictionType?: string;
  [key: string]: unknown;
}

/**
 * Immutable once inserted: every column is written at publish time and never updated.
 * Objects live under `object_prefix` (`models/<modelId>/v<number>/`): model.json + weights.bin (EMA
 * inference weights), config.json, MODEL_CARD.md, grid.png.
 */
export const modelVersions = pgTable(
  'model_versions',
  {
    id: id(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    /** No cascade on purpose: a run with published versions cannot be deleted (the runs service says so first). */
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id),
    step: integer('step').notNull(),
    objectPrefix: text('object_prefix').notNull(),
    /** 'float16' | 'float32' of weights.bin. */
    weightsDtype: text('weights_dtype').notNull(),
    weightsBytes: bigint('weights_bytes', { mode: 'number' }).notNull(),
    config: jsonb('config').$type<ModelVersionConfig>().notNull(),
    resolution: integer('resolution').notNull(),
    channels: integer('channels').notNull(),
    /** Class names by label index; empty for unconditional models. */
    labelNames: jsonb('label_names').$type<string[]>().notNull().default([]),
    datasetVersionId: uuid('dataset_version_id').references(() => datasetVersions.id, { onDelete: 'set null' }),
    /** Content hash of the training dataset version, kept even if that version is deleted. */
    datasetVersionHash: text('dataset_version_hash'),
    /** e.g. { loss: { step, last, mean }, … } at publish time. */
    metrics: jsonb('metrics').$type<Record<string, unknown>>().notNull().default({}),
    /** A copy of the run's sample grid nearest to `step`, under the version prefix. */
    sampleGridKey: text('sample_grid_key'),
    sampleGridStep: integer('sample_grid_step'),
    modelCard: text('model_card').notNull(),
    notes: text('notes').notNull().default(''),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('model_versions_model_number_key').on(t.modelId, t.number),
    index('model_versions_run_idx').on(t.runId),
  ],
);

/** Named pointers (`latest`, `best`, user-defined) to a version; every move is recorded in alias_events. */
export const modelAliases = pgTable(
  'model_aliases',
  {
    id: id(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** No cascade: deleting a version an alias points to is handled by the service (moved or refused). */
    versionId: uuid('version_id')
      .notNull()
      .references(() => modelVersions.id),
    updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
    ...timestamps(),
  },
  (t) => [uniqueIndex('model_aliases_model_name_key').on(t.modelId, t.name)],
);

/** Audit of alias moves. Version numbers are copied so the trail survives deleted versions. */
export const aliasEvents = pgTable(
  'alias_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    aliasName: text('alias_name').notNull(),
    fromVersionId: uuid('from_version_id').references(() => modelVersions.id, { onDelete: 'set null' }),
    fromNumber: integer('from_number'),
    /** Null when the alias was removed. */
    toVersionId: uuid('to_version_id').references(() => modelVersions.id, { onDelete: 'set null' }),
    toNumber: integer('to_number'),
    reason: text('reason').notNull().default(''),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('alias_events_model_idx').on(t.modelId, t.id)],
);

export const MODEL_SHARE_ROLES = ['viewer', 'editor'] as const;
export type ModelShareRole = (typeof MODEL_SHARE_ROLES)[number];
export const modelShareRole = pgEnum('model_share_role', MODEL_SHARE_ROLES);

/** A model shared with one user or one whole team (exactly one grantee). */
export const modelShares = pgTable(
  'model_shares',
  {
    id: id(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    granteeUserId: uuid('grantee_user_id').references(() => users.id, { onDelete: 'cascade' }),
    granteeTeamId: uuid('grantee_team_id').references(() => teams.id, { onDelete: 'cascade' }),
    role: modelShareRole('role').notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    ...timestamps(),
  },
  (t) => [
    check('model_shares_one_grantee', sql`(${t.granteeUserId} is null) <> (${t.granteeTeamId} is null)`),
    uniqueIndex('model_shares_model_user_key')
      .on(t.modelId, t.granteeUserId)
      .where(sql`${t.granteeUserId} is not null`),
    uniqueIndex('model_shares_model_team_key')
      .on(t.modelId, t.granteeTeamId)
      .where(sql`${t.granteeTeamId} is not null`),
    index('model_shares_user_idx').on(t.granteeUserId),
    index('model_shares_team_idx').on(t.granteeTeamId),
  ],
);

/** Anonymous read + sample links for one model (`dpl_share_…`); only the token's SHA-256 is stored. */
export const shareLinks = pgTable(
  'share_links',
  {
    id: id(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    /** First characters of the token, safe to list so admins can tell links apart. */
    prefix: text('prefix').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('share_links_token_hash_key').on(t.tokenHash), index('share_links_model_idx').on(t.modelId)],
);

/**
 * Sample jobs and evaluations: queued → running → succeeded | failed, or cancelled (while queued or running) by
 * whoever asked for them or a team admin.
 */
export const MODEL_JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type ModelJobStatus = (typeof MODEL_JOB_STATUSES)[number];
export const sampleJobStatus = pgEnum('sample_job_status', MODEL_JOB_STATUSES);
export const evaluationStatus = pgEnum('evaluation_status', MODEL_JOB_STATUSES);

/**
 * One generateSamples request. `team_id` is the team whose concurrency limit it counts against (the
 * requester's team for members/shares, the model's team for share links). Result PNGs are expected under
 * the version prefix (`<objectPrefix>samples/<jobId>/`) so deleting a version frees them.
 */
export const sampleJobs = pgTable(
  'sample_jobs',
  {
    id: id(),
    modelVersionId: uuid('model_version_id')
      .notNull()
      .references(() => modelVersions.id, { onDelete: 'cascade' }),
    teamId: uuid('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    requestedBy: uuid('requested_by').references(() => users.id, { onDelete: 'set null' }),
    shareLinkId: uuid('share_link_id').references(() => shareLinks.id, { onDelete: 'set null' }),
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    status: sampleJobStatus('status').notNull().default('queued'),
    /** Denoising steps done so far over all images (progress). */
    stepsDone: integer('steps_done').notNull().default(0),
    stepsTotal: integer('steps_total').notNull().default(0),
    resultKeys: jsonb('result_keys').$type<string[]>().notNull().default([]),
    error: text('error'),
    queuedAt: timestamp('queued_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    /**
     * The hub process whose in-memory queue holds the job (its presence id, see the server's
     * sampling/hub-presence.ts). Jobs of a hub that died are adopted by a live one; null = unknown owner.
     */
    hubId: uuid('hub_id'),
  },
  (t) => [
    // Queue position: count of queued jobs queued earlier.
    index('sample_jobs_queue_idx')
      .on(t.queuedAt)
      .where(sql`${t.status} = 'queued'`),
    // Every hub looks for unfinished jobs of hubs that died every 30 s: only unfinished rows are indexed.
    index('sample_jobs_unfinished_hub_idx')
      .on(t.hubId)
      .where(sql`${t.status} in ('queued', 'running')`),
    index('sample_jobs_team_status_idx').on(t.teamId, t.status),
    index('sample_jobs_version_idx').on(t.modelVersionId),
  ],
);

/**
 * The steps of a running evaluation: the dataset classifier (loaded, or trained by the first evaluation of a labelled
 * dataset version), generating the samples, measuring the generated and real images' features.
 */
export const EVALUATION_PHASES = ['classifier', 'generating', 'measuring'] as const;
export type EvaluationPhase = (typeof EVALUATION_PHASES)[number];

/**
 * KID/FID/IS of a model version against a dataset version. Numbers are comparable only between rows with
 * the same `extractor` and `num_samples`.
 */
export const evaluations = pgTable(
  'evaluations',
  {
    id: id(),
    modelVersionId: uuid('model_version_id')
      .notNull()
      .references(() => modelVersions.id, { onDelete: 'cascade' }),
    datasetVersionId: uuid('dataset_version_id').references(() => datasetVersions.id, { onDelete: 'set null' }),
    datasetVersionHash: text('dataset_version_hash'),
    teamId: uuid('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    numSamples: integer('num_samples').notNull(),
    extractor: text('extractor').notNull(),
    /** Sampler settings used to generate the samples (sampler, steps, seed…). */
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    status: evaluationStatus('status').notNull().default('queued'),
    /** Progress: samples generated so far (a batch's in proportion to its denoising steps done). */
    samplesDone: integer('samples_done').notNull().default(0),
    /** What a running evaluation is doing (null before its worker started on it). */
    phase: text('phase').$type<EvaluationPhase>(),
    kidMean: doublePrecision('kid_mean'),
    kidStd: doublePrecision('kid_std'),
    fid: doublePrecision('fid'),
    isMean: doublePrecision('is_mean'),
    isStd: doublePrecision('is_std'),
    error: text('error'),
    requestedBy: uuid('requested_by').references(() => users.id, { onDelete: 'set null' }),
    queuedAt: timestamp('queued_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('evaluations_version_idx').on(t.modelVersionId, t.queuedAt)],
);

export const WEBHOOK_EVENTS = [
  'run.started',
  'run.finished',
  'run.failed',
  'model.published',
  'evaluation.finished',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/**
 * Team webhooks. The signing secret must be recoverable to sign, so it is stored encrypted
 * (AES-256-GCM, key derived from the hub secret), never in plaintext.
 */
export const webhooks = pgTable(
  'webhooks',
  {
    id: id(),
    teamId: uuid('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    secretEncrypted: text('secret_encrypted').notNull(),
    events: jsonb('events').$type<WebhookEvent[]>().notNull(),
    active: boolean('active').notNull().default(true),
    description: text('description').notNull().default(''),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    ...timestamps(),
  },
  (t) => [index('webhooks_team_idx').on(t.teamId)],
);

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];
export const webhookDeliveryStatus = pgEnum('webhook_delivery_status', WEBHOOK_DELIVERY_STATUSES);

/**
 * The delivery log: one row per attempt. Attempts of one event share `delivery_id` (also sent as
 * `X-Dapple-Delivery`) so receivers can de-duplicate.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: id(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    deliveryId: uuid('delivery_id').notNull(),
    event: text('event').$type<WebhookEvent>().notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    attempt: integer('attempt').notNull(),
    status: webhookDeliveryStatus('status').notNull().default('pending'),
    statusCode: integer('status_code'),
    responseSnippet: text('response_snippet'),
    error: text('error'),
    durationMs: integer('duration_ms'),
    /** Set when this attempt failed and another one is scheduled. */
    nextRetryAt: timestamp('next_retry_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_delivery_attempt_key').on(t.deliveryId, t.attempt),
    index('webhook_deliveries_webhook_idx').on(t.webhookId, t.createdAt),
  ],
);

export type Model = typeof models.$inferSelect;
export type ModelVersion = typeof modelVersions.$inferSelect;
export type ModelAlias = typeof modelAliases.$inferSelect;
export type AliasEvent = typeof aliasEvents.$inferSelect;
export type ModelShare = typeof modelShares.$inferSelect;
export type ShareLink = typeof shareLinks.$inferSelect;
export type SampleJob = typeof sampleJobs.$inferSelect;
export type Evaluation = typeof evaluations.$inferSelect;
export type Webhook = typeof webhooks.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
