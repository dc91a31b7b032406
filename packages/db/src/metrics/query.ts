import { MetricsInputError } from './errors.ts';
import { validateKey } from './keys.ts';
import { bucketShift, decompose, levelForShift, levelShift, MAX_STEP, type Piece } from './ladder.ts';
import { poolOf, type MetricsDb } from './queryable.ts';
import { assertUuid } from './uuid.ts';

export const MAX_QUERY_KEYS = 100;
export const MAX_POINTS_LIMIT = 100_000;

export interface MetricsQuery {
  runId: string;
  keys: readonly string[];
  /** Upper bound on buckets per key (1..100000). */
  maxPoints: number;
  /** Inclusive step range; defaults to the steps stored for the requested keys. */
  fromStep?: number;
  toStep?: number;
}

/**
 * One bucket of a downsampled series. Buckets are aligned to multiples of `bucketWidth` (a power of 2);
 * `step` is the first step of the bucket inside the requested range. `mean`, `min`, `max` and `last` are
 * over finite values only (null when the bucket has none); `count` counts finite values and `nonFinite`
 * the NaN/±Infinity ones.
 */
export interface MetricBucket {
  step: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  last: number | null;
  /** Step of `last` (null with it). */
  lastStep: number | null;
  count: number;
  nonFinite: number;
}

export interface MetricSeries {
  key: string;
  buckets: MetricBucket[];
}

export interface MetricsQueryResult {
  /** Steps per bucket, the same for every key so series line up; 1 = raw points. */
  bucketWidth: number;
  /** The range actually covered (requested range clamped to stored steps); null when nothing is stored. */
  fromStep: number | null;
  toStep: number | null;
  /** One entry per requested key, in request order (empty buckets for unknown keys). */
  series: MetricSeries[];
}

/**
 * Downsampled read: ≤ maxPoints buckets per key over [fromStep, toStep]. The range is covered by
 * pre-aggregated rollup buckets of the coarsest level that fits the bucket width, plus raw points and
 * finer rollups on the ragged edges, so a read touches ~maxPoints..2·maxPoints rows per key whatever the
 * series length, and agrees exactly with a GROUP BY over the raw points.
 */
export async function queryMetrics(db: MetricsDb, q: MetricsQuery): Promise<MetricsQueryResult> {
  assertUuid(q.runId, 'runId');
  validateQuery(q);
  const pool = poolOf(db);
  const keys = [...new Set(q.keys)];
  const { rows: keyRows } = await pool.query<{ id: number; key: string; first: number | null; last: number | null }>(
    `SELECT k.id, k.key,
       (SELECT step FROM metric_points p WHERE p.key_id = k.id ORDER BY step ASC LIMIT 1) AS first,
       (SELECT step FROM metric_points p WHERE p.key_id = k.id ORDER BY step DESC LIMIT 1) AS last
     FROM metric_keys k WHERE k.run_id = $1 AND k.key = ANY($2::text[])`,
    [q.runId, keys],
  );
  const stored = keyRows.filter((r) => r.first !== null && r.last !== null);
  const empty = (bucketWidth: number, fromStep: number | null, toStep: number | null): MetricsQueryResult => ({
    bucketWidth,
    fromStep,
    toStep,
    series: q.keys.map((key) => ({ key, buckets: [] })),
  });
  if (stored.length === 0) return empty(1, null, null);
  const from = Math.max(q.fromStep ?? 0, Math.min(...stored.map((r) => r.first!)));
  const to = Math.min(q.toStep ?? MAX_STEP, Math.max(...stored.map((r) => r.last!)));
  if (from > to) return empty(1, null, null);

  const shift = bucketShift(from, to, q.maxPoints);
  const pieces = decompose(from, to, levelForShift(shift));
  const { text, values } = bucketQuery(
    stored.map((r) => r.id),
    pieces,
    shift,
  );
  const { rows } = await pool.query<BucketRow>(text, values);

  const keyById = new Map(stored.map((r) => [r.id, r.key]));
  const byKey = new Map<string, MetricBucket[]>();
  for (const r of rows) {
    const key = keyById.get(r.key_id)!;
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    const count = Number(r.count);
    list.push({
      step: Math.max(from, r.bucket * 2 ** shift),
      mean: count > 0 ? r.sum / count : null,
      min: r.min,
      max: r.max,
      last: r.last_value,
      lastStep: r.last_step,
      count,
      nonFinite: Number(r.non_finite),
    });
  }
  return {
    bucketWidth: 2 ** shift,
    fromStep: from,
    toStep: to,
    series: q.keys.map((key) => ({ key, buckets: byKey.get(key) ?? [] })),
  };
}

interface BucketRow {
  key_id: number;
  bucket: number;
  count: string;
  non_finite: string;
  sum: number;
  min: number | null;
  max: number | null;
  last_step: number | null;
  last_value: number | null;
}

const FINITE = `abs(value) < 'Infinity'::float8`;

/** UNION ALL of one scan per piece (raw points or one rollup level), regrouped into output buckets. */
function bucketQuery(keyIds: number[], pieces: Piece[], shift: number): { text: string; values: unknown[] } {
  const values: unknown[] = [keyIds];
  const param = (v: unknown) => `$${values.push(v)}`;
  const parts = pieces.map((p) => {
    if (p.level === 0) {
      return `SELECT key_id, step AS start,
          (${FINITE})::int AS count, (NOT ${FINITE})::int AS non_finite,
          CASE WHEN ${FINITE} THEN value ELSE 0 END AS sum,
          CASE WHEN ${FINITE} THEN value END AS min, CASE WHEN ${FINITE} THEN value END AS max,
          CASE WHEN ${FINITE} THEN step END AS last_step, CASE WHEN ${FINITE} THEN value END AS last_value
        FROM metric_points WHERE key_id = ANY($1::int[]) AND step BETWEEN ${param(p.fromStep)} AND ${param(p.toStep)}`;
    }
    const s = levelShift(p.level);
    return `SELECT key_id, bucket::bigint << ${s} AS start, count, non_finite, sum, min, max, last_step, last_value
        FROM metric_rollups WHERE key_id = ANY($1::int[]) AND level = ${p.level}
          AND bucket BETWEEN ${param(Math.floor(p.fromStep / 2 ** s))} AND ${param(Math.floor(p.toStep / 2 ** s))}`;
  });
  const text = `SELECT key_id, (start >> ${shift})::int AS bucket,
      sum(count) AS count, sum(non_finite) AS non_finite, sum(sum) AS sum, min(min) AS min, max(max) AS max,
      max(last_step) AS last_step,
      (array_agg(last_value ORDER BY last_step DESC) FILTER (WHERE last_step IS NOT NULL))[1] AS last_value
    FROM (${parts.join('\n      UNION ALL ')}) pieces
    GROUP BY key_id, start >> ${shift}
    ORDER BY key_id, bucket`;
  return { text, values };
}

function validateQuery(q: MetricsQuery): void {
  if (!Array.isArray(q.keys) || q.keys.length === 0) throw new MetricsInputError('keys', 'must list at least one key');
  if (q.keys.length > MAX_QUERY_KEYS)
    throw new MetricsInputError('keys', `has ${q.keys.length} keys, the limit is ${MAX_QUERY_KEYS}`);
  q.keys.forEach((k, i) => validateKey(k, `keys[${i}]`));
  if (!Number.isInteger(q.maxPoints) || q.maxPoints < 1 || q.maxPoints > MAX_POINTS_LIMIT) {
    throw new MetricsInputError('maxPoints', `${q.maxPoints} is not an integer in 1..${MAX_POINTS_LIMIT}`);
  }
  for (const field of ['fromStep', 'toStep'] as const) {
    const v = q[field];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > MAX_STEP)) {
      throw new MetricsInputError(field, `${v} is not an integer in 0..${MAX_STEP}`);
    }
  }
  if (q.fromStep !== undefined && q.toStep !== undefined && q.fromStep > q.toStep) {
    throw new MetricsInputError('fromStep', `${q.fromStep} is after toStep ${q.toStep}`);
  }
}
