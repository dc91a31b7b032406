import { levelShift, ROLLUP_LEVELS } from './ladder.ts';

const FINITE = `abs(value) < 'Infinity'::float8`; // false for NaN and ±Infinity

/**
 * One statement that inserts points from `source` (a relation with key_id, step, value, wall_time) and
 * folds exactly the rows it inserted into every rollup level. Being one statement it is atomic without
 * an explicit transaction. Rows are inserted and upserted in key order so concurrent writers touching
 * the same series lock rows in the same order (no deadlocks).
 *
 * `$1` is the batch's distinct key ids. Points and rollups carry no foreign key (a per-row RI check
 * halved ingest speed): instead the statement locks its keys FOR KEY SHARE — what an FK check would do,
 * but once per key — and keeps only points of keys that still exist. A run deleted concurrently thus
 * either waits for this insert (and its delete trigger then removes the points) or leaves nothing to
 * insert; `keys_found` tells the caller which.
 *
 * Level 1 is aggregated from the inserted rows; levels 2+ from level 1's groups (each level nests in
 * the one below), so the work per point stays ~1 row whatever the number of levels. The last value of a
 * bucket is `max(ARRAY[step, value])[2]` (steps are exact in float8; values here are finite), which
 * avoids a sort per group that `array_agg(… ORDER BY step DESC)` costs.
 */
/**
 * `source` must be a relation aliased `src`. `optimistic`: a plain INSERT without ON CONFLICT — ~30%
 * cheaper, and right for the usual batch of new steps; it fails with a unique violation (23505, nothing
 * written) when any point is already stored, and the caller then runs the non-optimistic statement.
 */
export function ingestStatement(source: string, opts: { optimistic?: boolean } = {}): string {
  const higher = Array.from({ length: ROLLUP_LEVELS - 1 }, (_, i) => {
    const level = i + 2;
    return `(${level}::smallint, ${levelShift(level) - levelShift(1)})`;
  }).join(', ');
  return `
WITH keys AS (
  SELECT id FROM metric_keys WHERE id = ANY($1::int[]) ORDER BY id FOR KEY SHARE
), ins AS (
  INSERT INTO metric_points (key_id, step, value, wall_time)
  SELECT src.key_id, src.step, src.value, src.wall_time FROM ${source} JOIN keys ON keys.id = src.key_id
  ORDER BY src.key_id, src.step
  ${opts.optimistic ? '' : 'ON CONFLICT DO NOTHING'}
  RETURNING key_id, step, value
), l1 AS (
  SELECT key_id, 1::smallint AS level, step >> ${levelShift(1)} AS bucket,
    (count(*) FILTER (WHERE ${FINITE}))::int AS count,
    (count(*) FILTER (WHERE NOT ${FINITE}))::int AS non_finite,
    coalesce(sum(value) FILTER (WHERE ${FINITE}), 0) AS sum,
    min(value) FILTER (WHERE ${FINITE}) AS min,
    max(value) FILTER (WHERE ${FINITE}) AS max,
    max(step) FILTER (WHERE ${FINITE}) AS last_step,
    (max(ARRAY[step::float8, value]) FILTER (WHERE ${FINITE}))[2] AS last_value
  FROM ins GROUP BY key_id, step >> ${levelShift(1)}
), up AS (
  SELECT l1.key_id, h.level, l1.bucket >> h.shift AS bucket,
    sum(l1.count)::int AS count, sum(l1.non_finite)::int AS non_finite, sum(l1.sum) AS sum,
    min(l1.min) AS min, max(l1.max) AS max, max(l1.last_step) AS last_step,
    (max(ARRAY[l1.last_step::float8, l1.last_value]) FILTER (WHERE l1.last_step IS NOT NULL))[2] AS last_value
  FROM l1 CROSS JOIN (VALUES ${higher}) AS h(level, shift)
  GROUP BY l1.key_id, h.level, l1.bucket >> h.shift
  UNION ALL SELECT * FROM l1
), rolled AS (
  INSERT INTO metric_rollups AS r (key_id, level, bucket, count, non_finite, sum, min, max, last_step, last_value)
  SELECT * FROM up ORDER BY key_id, level, bucket
  ON CONFLICT (key_id, level, bucket) DO UPDATE SET
    count = r.count + excluded.count,
    non_finite = r.non_finite + excluded.non_finite,
    sum = r.sum + excluded.sum,
    min = least(r.min, excluded.min),
    max = greatest(r.max, excluded.max),
    last_value = CASE WHEN r.last_step IS NULL OR excluded.last_step > r.last_step THEN excluded.last_value ELSE r.last_value END,
    last_step = greatest(r.last_step, excluded.last_step)
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT max(step) FROM ins) AS max_step, (SELECT count(*) FROM keys)::int AS keys_found`;
}
