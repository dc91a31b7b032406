/**
 * Test-only helpers: a seeded random generator, a run row to hang metrics on, and a reference downsampling computed straight from
 * raw points with GROUP BY (what queryMetrics must agree with).
 */
import type pg from 'pg';

/** A seeded uniform [0, 1) generator (mulberry32): the tests' random steps and values, the same on every run. */
export function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Inserts a team and the smallest valid `runs` row in it; returns the run id. */
export async function insertTestRun(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `WITH t AS (INSERT INTO teams (name, slug) VALUES ('Metrics', 'metrics-' || gen_random_uuid()) RETURNING id)
     INSERT INTO runs (team_id, name, config, seed, total_steps) SELECT t.id, 'run', '{}'::jsonb, 1, 100 FROM t RETURNING id`,
  );
  return rows[0]!.id;
}

export interface ReferenceBucket {
  key: string;
  bucket: number;
  count: number;
  nonFinite: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  lastStep: number | null;
  last: number | null;
}

/** Downsampling straight from raw points (the naive GROUP BY the rollups must agree with). */
export async function referenceBuckets(
  pool: pg.Pool,
  runId: string,
  keys: string[],
  shift: number,
  from: number,
  to: number,
): Promise<ReferenceBucket[]> {
  const finite = `abs(p.value) < 'Infinity'::float8`;
  const { rows } = await pool.query<{
    key: string;
    bucket: number;
    count: number;
    non_finite: number;
    mean: number | null;
    min: number | null;
    max: number | null;
    last_step: number | null;
    last: number | null;
  }>(
    `SELECT k.key, (p.step >> $3::int) AS bucket,
       count(*) FILTER (WHERE ${finite})::int AS count, count(*) FILTER (WHERE NOT ${finite})::int AS non_finite,
       avg(p.value) FILTER (WHERE ${finite}) AS mean, min(p.value) FILTER (WHERE ${finite}) AS min,
       max(p.value) FILTER (WHERE ${finite}) AS max, max(p.step) FILTER (WHERE ${finite}) AS last_step,
       (array_agg(p.value ORDER BY p.step DESC) FILTER (WHERE ${finite}))[1] AS last
     FROM metric_points p JOIN metric_keys k ON k.id = p.key_id
     WHERE k.run_id = $1 AND k.key = ANY($2::text[]) AND p.step BETWEEN $4 AND $5
     GROUP BY k.key, p.step >> $3::int ORDER BY k.key, bucket`,
    [runId, keys, shift, from, to],
  );
  return rows.map((r) => ({
    key: r.key,
    bucket: r.bucket,
    count: r.count,
    nonFinite: r.non_finite,
    mean: r.mean,
    min: r.min,
    max: r.max,
    lastStep: r.last_step,
    last: r.last,
  }));
}
