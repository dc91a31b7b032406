import {
  doublePrecision,
  integer,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { runs } from './runs.ts';

/**
 * Metric series of a run. Hot-path reads and writes are raw SQL in `src/metrics/` (COPY/unnest ingest,
 * rollup-backed downsampling); these definitions exist for migrations and typed ad-hoc queries.
 *
 * A series is (run, key); points refer to it by a small integer id instead of repeating the run uuid and
 * key text in every row (a point row is 24 bytes of data instead of ~60).
 */
export const metricKeys = pgTable(
  'metric_keys',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('metric_keys_run_key_key').on(t.runId, t.key)],
);

/** One value per (series, step): a resent point is ignored (ON CONFLICT DO NOTHING), never overwritten. */
export const metricPoints = pgTable(
  'metric_points',
  {
    /** No foreign key (see ingest-sql.ts): removed with its key by the metric_keys delete trigger (migration 0004). */
    keyId: integer('key_id').notNull(),
    step: integer('step').notNull(),
    /** May be NaN or ±Infinity (a diverged loss is worth seeing); aggregates skip non-finite values. */
    value: doublePrecision('value').notNull(),
    wallTime: timestamp('wall_time', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.step] })],
);

/**
 * Pre-aggregated step buckets, maintained in the same statement that inserts points (only from the
 * rows that statement really inserted, so a resent batch changes nothing here either).
 * Level l (1..ROLLUP_LEVELS) covers steps [bucket * 4^(l+1), (bucket + 1) * 4^(l+1)): widths 16, 64, … 4^10.
 * `count`, `sum`, `min`, `max` and `last_*` are over finite values only; `non_finite` counts the rest.
 */
export const metricRollups = pgTable(
  'metric_rollups',
  {
    keyId: integer('key_id').notNull(),
    level: smallint('level').notNull(),
    bucket: integer('bucket').notNull(),
    count: integer('count').notNull(),
    nonFinite: integer('non_finite').notNull(),
    sum: doublePrecision('sum').notNull(),
    min: doublePrecision('min'),
    max: doublePrecision('max'),
    lastStep: integer('last_step'),
    lastValue: doublePrecision('last_value'),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.level, t.bucket] })],
);

export type MetricKey = typeof metricKeys.$inferSelect;
export type MetricPoint = typeof metricPoints.$inferSelect;
export type MetricRollup = typeof metricRollups.$inferSelect;
