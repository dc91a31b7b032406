import { from as copyFrom } from 'pg-copy-streams';
import type pg from 'pg';
import { MetricsInputError } from './errors.ts';
import { ingestStatement } from './ingest-sql.ts';
import { forgetRun, resolveKeyIds, validateKey } from './keys.ts';
import { MAX_STEP } from './ladder.ts';
import { float8Array, int4Array, timestamptzArray } from './pg-binary.ts';
import { poolOf, type MetricsDb } from './queryable.ts';
import { assertUuid } from './uuid.ts';

export interface MetricPointInput {
  key: string;
  /** Non-negative integer ≤ 2^31-1. */
  step: number;
  /** Any number; NaN and ±Infinity are stored but left out of aggregates (see queryMetrics). */
  value: number;
  /** Defaults to the time of the call. */
  wallTime?: Date;
}

export interface InsertMetricPointsOptions {
  /**
   * How rows reach Postgres: `unnest` (arrays bound to one INSERT … SELECT statement) or `copy`
   * (COPY into a temporary staging table, then the same INSERT … SELECT, in a transaction).
   * The bench (`npm run bench -w @dapple/db`) compares them; unnest is the default (see README).
   */
  method?: 'unnest' | 'copy';
}

export interface InsertMetricPointsResult {
  /** Points actually stored: resent (run, key, step) points are ignored, so a resent batch returns 0. */
  inserted: number;
  /** Highest step among the stored points, null when nothing new was stored. */
  maxStep: number | null;
}

/** The batch as columns, in-batch duplicates dropped; entries [0, length) are used. */
interface Rows {
  length: number;
  distinctKeyIds: number[];
  keyIds: Int32Array;
  steps: Int32Array;
  values: Float64Array;
  /** Per-row wall times, or null when no point carries one and every row gets `now`. */
  wallTimes: Date[] | null;
  now: Date;
}

/**
 * Stores a batch of points of one run, idempotently: a point whose (key, step) is already stored is
 * ignored — also within the batch, where the first occurrence wins. Rollups are updated in the same
 * statement. Throws MetricsInputError (field + limit) before touching the database on bad input.
 */
export async function insertMetricPoints(
  db: MetricsDb,
  runId: string,
  points: readonly MetricPointInput[],
  options: InsertMetricPointsOptions = {},
): Promise<InsertMetricPointsResult> {
  assertUuid(runId, 'runId');
  validatePoints(points);
  if (points.length === 0) return { inserted: 0, maxStep: null };
  const pool = poolOf(db);
  const keyIds = await resolveKeyIds(pool, runId, points.map((p) => p.key));
  const rows = toRows(points, keyIds);
  const outcome = options.method === 'copy' ? await viaCopy(pool, rows) : await viaUnnest(pool, rows);
  if (outcome.keys_found < rows.distinctKeyIds.length) {
    // The run (and with it its keys) was deleted after the ids were cached: nothing was stored.
    forgetRun(pool, runId);
    throw new MetricsInputError('runId', `run ${runId} does not exist`);
  }
  return { inserted: outcome.inserted, maxStep: outcome.max_step };
}

function validatePoints(points: readonly MetricPointInput[]): void {
  if (!Array.isArray(points)) throw new MetricsInputError('points', 'must be an array');
  const seenKeys = new Set<string>();
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (!seenKeys.has(p.key)) {
      validateKey(p.key, `points[${i}].key`);
      seenKeys.add(p.key);
    }
    if (!Number.isInteger(p.step) || p.step < 0 || p.step > MAX_STEP) {
      throw new MetricsInputError(`points[${i}].step`, `${p.step} is not an integer in 0..${MAX_STEP}`);
    }
    if (typeof p.value !== 'number') throw new MetricsInputError(`points[${i}].value`, 'must be a number');
    if (p.wallTime !== undefined && !(p.wallTime instanceof Date && Number.isFinite(p.wallTime.getTime()))) {
      throw new MetricsInputError(`points[${i}].wallTime`, 'must be a valid Date');
    }
  }
}

/** Column arrays with in-batch duplicates dropped (first occurrence wins, like a resend). */
function toRows(points: readonly MetricPointInput[], keyIds: Map<string, number>): Rows {
  const n = points.length;
  const rows: Rows = {
    length: 0,
    distinctKeyIds: [],
    keyIds: new Int32Array(n),
    steps: new Int32Array(n),
    values: new Float64Array(n),
    wallTimes: points.some((p) => p.wallTime !== undefined) ? [] : null,
    now: new Date(),
  };
  // (index of the key in this batch, step) as one exact number: < 1000 keys × 2^31 steps < 2^53.
  const keyIndex = new Map<string, number>();
  const seen = new Set<number>();
  for (const p of points) {
    let k = keyIndex.get(p.key);
    if (k === undefined) {
      keyIndex.set(p.key, (k = keyIndex.size));
      rows.distinctKeyIds.push(keyIds.get(p.key)!);
    }
    const pair = k * 2 ** 31 + p.step;
    if (seen.has(pair)) continue;
    seen.add(pair);
    const i = rows.length++;
    rows.keyIds[i] = rows.distinctKeyIds[k]!;
    rows.steps[i] = p.step;
    rows.values[i] = p.value;
    rows.wallTimes?.push(p.wallTime ?? rows.now);
  }
  return rows;
}

interface Outcome {
  inserted: number;
  max_step: number | null;
  keys_found: number;
}

// Arrays go as binary parameters (see pg-binary.ts). unnest pads the shorter wall-time array with NULLs,
// so an empty one means "every row at $6".
const UNNEST_SOURCE = `(SELECT key_id, step, value, coalesce(wall_time, $6::timestamptz) AS wall_time
  FROM unnest($2::int[], $3::int[], $4::float8[], $5::timestamptz[]) AS u(key_id, step, value, wall_time)) AS src`;
// Named, so each pooled connection parses and plans them once instead of on every batch.
const UNNEST_SQL = {
  optimistic: { name: 'dapple_metrics_ingest', text: ingestStatement(UNNEST_SOURCE, { optimistic: true }) },
  safe: { name: 'dapple_metrics_ingest_on_conflict', text: ingestStatement(UNNEST_SOURCE) },
};

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

async function viaUnnest(pool: pg.Pool, rows: Rows): Promise<Outcome> {
  const values = [
    int4Array(rows.distinctKeyIds),
    int4Array(rows.keyIds, rows.length),
    int4Array(rows.steps, rows.length),
    float8Array(rows.values, rows.length),
    timestamptzArray(rows.wallTimes ?? []),
    rows.now,
  ];
  try {
    return (await pool.query<Outcome>({ ...UNNEST_SQL.optimistic, values })).rows[0]!;
  } catch (err) {
    // Some point is stored already (a resend, or steps re-logged after a resume): the failed
    // statement wrote nothing; take the ON CONFLICT DO NOTHING path.
    if (!isUniqueViolation(err)) throw err;
    return (await pool.query<Outcome>({ ...UNNEST_SQL.safe, values })).rows[0]!;
  }
}

const STAGING = 'dapple_metric_staging';
const COPY_SQL = { optimistic: ingestStatement(`${STAGING} AS src`, { optimistic: true }), safe: ingestStatement(`${STAGING} AS src`) };
/** Connections that already have the session's temporary staging table. */
const staged = new WeakSet<pg.PoolClient>();

async function viaCopy(pool: pg.Pool, rows: Rows): Promise<Outcome> {
  const client = await pool.connect();
  let failed = false;
  try {
    await client.query('BEGIN');
    if (!staged.has(client)) {
      await client.query(
        `CREATE TEMP TABLE IF NOT EXISTS ${STAGING} (key_id int, step int, value float8, wall_time timestamptz) ON COMMIT DELETE ROWS`,
      );
    }
    await copyRows(client, rows);
    await client.query('SAVEPOINT optimistic');
    let out: Outcome[];
    try {
      ({ rows: out } = await client.query<Outcome>(COPY_SQL.optimistic, [int4Array(rows.distinctKeyIds)]));
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // The staged rows survive the rollback to the savepoint.
      await client.query('ROLLBACK TO SAVEPOINT optimistic');
      ({ rows: out } = await client.query<Outcome>(COPY_SQL.safe, [int4Array(rows.distinctKeyIds)]));
    }
    await client.query('COMMIT');
    staged.add(client);
    return out[0]!;
  } catch (err) {
    failed = true;
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    // A connection whose transaction failed mid-COPY is not worth reusing.
    client.release(failed);
  }
}

function copyRows(client: pg.PoolClient, rows: Rows): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = client.query(copyFrom(`COPY ${STAGING} (key_id, step, value, wall_time) FROM STDIN`));
    stream.on('error', reject);
    stream.on('finish', () => resolve());
    const chunk: string[] = [];
    const flush = () => {
      stream.write(chunk.join(''));
      chunk.length = 0;
    };
    const now = rows.now.toISOString();
    for (let i = 0; i < rows.length; i++) {
      // Text format: String(NaN) / String(Infinity) are valid float8 input.
      chunk.push(`${rows.keyIds[i]}\t${rows.steps[i]}\t${rows.values[i]}\t${rows.wallTimes ? rows.wallTimes[i]!.toISOString() : now}\n`);
      if (chunk.length === 4096) flush();
    }
    if (chunk.length) flush();
    stream.end();
  });
}
