import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
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
import { teams } from './teams.ts';
import { users } from './users.ts';

/**
 * queued → starting → running → succeeded | failed | cancelled; cancelling while a trainer stops;
 * lost when its heartbeats stopped (re-queued from the last checkpoint up to max_attempts).
 */
export const RUN_STATUSES = [
  'queued',
  'starting',
  'running',
  'cancelling',
  'cancelled',
  'succeeded',
  'failed',
  'lost',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** A process may exist for runs in these states. */
export const ACTIVE_RUN_STATUSES = ['starting', 'running', 'cancelling'] as const satisfies readonly RunStatus[];
export const FINISHED_RUN_STATUSES = ['cancelled', 'succeeded', 'failed'] as const satisfies readonly RunStatus[];
export const runStatus = pgEnum('run_status', RUN_STATUSES);

export const runs = pgTable(
  'runs',
  {
    id: id(),
    teamId: uuid('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** The dataset version trained on; null once that version was deleted (the run's history stays). */
    datasetVersionId: uuid('dataset_version_id').references(() => datasetVersions.id, { onDelete: 'set null' }),
    /** RunConfig (packages/contracts/src/run-config.ts), validated with zod before it is stored. */
    config: jsonb('config').notNull(),
    seed: bigint('seed', { mode: 'number' }).notNull(),
    status: runStatus('status').notNull().default('queued'),
    /** Higher starts first; FIFO (queued_at) within a priority. */
    priority: integer('priority').notNull().default(0),
    /** Forks: the run whose checkpoint at from_step this run starts from. */
    parentRunId: uuid('parent_run_id').references((): AnyPgColumn => runs.id, { onDelete: 'set null' }),
    fromStep: integer('from_step'),
    /** Fine-tuning from a published model version (models come later). */
    baseModelVersionId: uuid('base_model_version_id'),
    executor: text('executor'),
    /** Local: pid; Kubernetes: Job name. */
    executorHandle: text('executor_handle'),
    executorSlot: text('executor_slot'),
    /** Host of the hub that started a local process (slots are per machine). */
    executorHost: text('executor_host'),
    attempt: integer('attempt').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(3),
    /** Set by cancelRun; a trainer stopping while this is true ends `cancelled`. */
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    queuedAt: timestamp('queued_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    lastHeartbeatAt: timestamp('last_heartbeat_at', { withTimezone: true }),
    step: integer('step').notNull().default(0),
    totalSteps: integer('total_steps').notNull(),
    imagesPerSec: doublePrecision('images_per_sec'),
    error: text('error'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    ...timestamps(),
  },
  (t) => [
    index('runs_team_created_idx').on(t.teamId, t.createdAt),
    // The scheduler's queue scan.
    index('runs_queue_idx')
      .on(t.priority, t.queuedAt)
      .where(sql`${t.status} = 'queued'`),
    index('runs_active_idx')
      .on(t.status)
      .where(sql`${t.status} in ('starting', 'running', 'cancelling')`),
  ],
);

/** Audit trail of status transitions and notable events (who, why). */
export const runEvents = pgTable(
  'run_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    fromStatus: runStatus('from_status'),
    toStatus: runStatus('to_status'),
    message: text('message').notNull(),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('run_events_run_idx').on(t.runId, t.id)],
);

/** One bearer token per run attempt for the trainer; only its SHA-256 is stored; revoked when the attempt ends. */
export const runTokens = pgTable(
  'run_tokens',
  {
    id: id(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    tokenHash: text('token_hash').notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('run_tokens_token_hash_key').on(t.tokenHash), index('run_tokens_run_idx').on(t.runId)],
);

/** Committed checkpoints (`<prefix>/model.json` + `weights.bin`); the trainer keeps the last K. */
export const checkpoints = pgTable(
  'checkpoints',
  {
    id: id(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    step: integer('step').notNull(),
    objectPrefix: text('object_prefix').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('checkpoints_run_step_key').on(t.runId, t.step)],
);

/** PNG grids sampled with EMA weights from the run's fixed seeds. */
export const sampleGrids = pgTable(
  'sample_grids',
  {
    id: id(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    step: integer('step').notNull(),
    objectKey: text('object_key').notNull(),
    seeds: jsonb('seeds').$type<number[]>().notNull(),
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('sample_grids_run_step_key').on(t.runId, t.step)],
);

export const LOG_STREAMS = ['stdout', 'stderr', 'system'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

/** Trainer output, one row per line; `seq` is the line number within the attempt. Trimmed to a tail per run. */
export const runLogs = pgTable(
  'run_logs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    seq: integer('seq').notNull(),
    stream: text('stream').$type<LogStream>().notNull(),
    line: text('line').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('run_logs_run_attempt_seq_key').on(t.runId, t.attempt, t.seq),
    index('run_logs_run_id_idx').on(t.runId, t.id),
  ],
);

export type Run = typeof runs.$inferSelect;
export type NewRun = typeof runs.$inferInsert;
export type RunEvent = typeof runEvents.$inferSelect;
export type RunToken = typeof runTokens.$inferSelect;
export type RunCheckpoint = typeof checkpoints.$inferSelect;
export type SampleGrid = typeof sampleGrids.$inferSelect;
export type RunLog = typeof runLogs.$inferSelect;
