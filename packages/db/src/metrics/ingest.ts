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

/**
 * A batch as columns (what the trainer API's binary body decodes to): point i is
 * (keys[keyIndex[i]], steps[i], values[i]), stored at the time of the call.
 */
export interface MetricColumnsInput {
  keys: readonly string[];
  keyIndex: ArrayLike<number>;
  /** Non-negative integers ≤ 2^31-1. */
  steps: ArrayLike<number>;
  values: ArrayLike<number>;
}

/** The batch as columns, in-batch duplicates dropped; entries [0, length) are used. */
interface Rows {
  length: number;
  /** Id of each key the batch uses, in order of first use. */
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
  const keyIndex = new Map<string, number>();
  const columns = {
    keys: [] as string[],
    keyIndex: new Int32Array(points.length),
    steps: new Int32Array(points.length),
    values: new Float64Array(points.length),
  };
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    let k = keyIndex.get(p.key);
    if (k === undefined) keyIndex.set(p.key, (k = columns.keys.push(p.key) - 1));
    columns.keyIndex[i] = k;
    columns.steps[i] = p.step;
    columns.values[i] = p.value;
  }
  const wallTimes = points.some((p) => p.wallTime !== undefined) ? points.map((p) => p.wallTime) : null;
  return ingest(poolOf(db), runId, columns, wallTimes, options);
}

/** insertMetricPoints for a batch given as columns (same rules; errors name `keys[i]`, `steps[i]`, …). */
export async function insertMetricColumns(
  db: MetricsDb,
  runId: string,
  columns: MetricColumnsInput,
  options: InsertMetricPointsOptions = {},
): Promise<InsertMetricPointsResult> {
  assertUuid(runId, 'runId');
  validateColumns(columns);
  if (columns.steps.length === 0) return { inserted: 0, maxStep: null };
  return ingest(poolOf(db), runId, columns, null, options);
}

async function ingest(
  pool: pg.Pool,
  runId: string,
  columns: MetricColumnsInput,
  wallTimes: (Date | undefined)[] | null,
  options: InsertMetricPointsOptions,
): Promise<InsertMetricPointsResult> {
  const rows = toRows(columns, wallTimes);
  const keyIds = await resolveKeyIds(pool, runId, rows.usedKeys);
  rows.distinctKeyIds = rows.usedKeys.map((k) => keyIds.get(k)!);
  // Rows hold the batch-local key number until the ids are known.
  for (let i = 0; i < rows.length; i++) rows.keyIds[i] = rows.distinctKeyIds[rows.keyIds[i]!]!;
  const outcome = options.method === 'copy' ? await viaCopy(pool, rows) : await viaUnnest(pool, rows);
  if (outcome.keys_found < rows.distinctKeyIds.length) {
    // The run (and with it its keys) was deleted after the ids were cached: nothing was stored.
    forgetRun(pool, runId);
    throw new MetricsInputError('runId', `run ${runId} does not exist`);
  }
  return { inserted: outcome.inserted, maxStep: outcome.max_step };
}

function validatePoints(points: readonly MetricPointInput[]): void {
  // Checked through an `unknown` copy: narrowing `points` itself would turn it into any[] below.
  const untrusted: unknown = points;
  if (!Array.isArray(untrusted)) throw new MetricsInputError('points', 'must be an array');
  const seenKeys = new Set<string>();
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (!seenKeys.has(p.key)) {
      validateKey(p.key, `points[${i}].key`);
      seenKeys.add(p.key);
    }
    validateStep(p.step, `points[${i}].step`);
    if (typeof p.value !== 'number') throw new MetricsInputError(`points[${i}].value`, 'must be a number');
    if (p.wallTime !== undefined && !(p.wallTime instanceof Date && Number.isFinite(p.wallTime.getTime()))) {
      throw new MetricsInputError(`points[${i}].wallTime`, 'must be a valid Date');
    }
  }
}

function validateColumns(c: MetricColumnsInput): void {
  const n = c.steps.length;
  if (c.keyIndex.length !== n || c.values.length !== n) {
    throw new MetricsInputError(
      'steps',
      `keyIndex, steps and values must be as long (${c.keyIndex.length}, ${n}, ${c.values.length})`,
    );
  }
  for (let k = 0; k < c.keys.length; k++) validateKey(c.keys[k], `keys[${k}]`);
  for (let i = 0; i < n; i++) {
    const k = c.keyIndex[i]!;
    if (!Number.isInteger(k) || k < 0 || k >= c.keys.length)
      throw new MetricsInputError(`keyIndex[${i}]`, `${k} is not an index into the ${c.keys.length} keys`);
    validateStep(c.steps[i]!, `steps[${i}]`);
    if (typeof c.values[i] !== 'number') throw new MetricsInputError(`values[${i}]`, 'must be a number');
  }
}

function validateStep(step: number, field: string): void {
  if (!Number.isInteger(step) || step < 0 || step > MAX_STEP)
    throw new MetricsInputError(field, `${step} is not an integer in 0..${MAX_STEP}`);
}

/**
 * Column arrays with in-batch duplicates dropped (first occurrence wins, like a resend). keyIds holds
 * each row's index into usedKeys (the distinct keys in order of first use) until the caller maps them.
 */
function toRows(c: MetricColumnsInput, wallTimes: (Date | undefined)[] | null): Rows & { usedKeys: string[] } {
  const n = c.steps.length;
  const rows: Rows & { usedKeys: string[] } = {
    length: 0,
    usedKeys: [],
    distinctKeyIds: [],
    keyIds: new Int32Array(n),
    steps: new Int32Array(n),
    values: new Float64Array(n),
    wallTimes: wallTimes && [],
    now: new Date(),
  };
  // Two indexes naming the same key string are one series: number keys by string, once per index.
  const usedByString = new Map<string, number>();
  const usedByIndex = new Map<number, number>();
  // A trainer sends each key's steps in increasing order, so a step above its key's highest so far is
  // new; only a step at or below it needs the set of (used-key number, step) pairs, built on first need
  // (k·2^31 + step is exact below 2^53 for any k < 2^22).
  const highest: number[] = [];
  let seen: Set<number> | null = null;
  for (let i = 0; i < n; i++) {
    const index = c.keyIndex[i]!;
    let k = usedByIndex.get(index);
    if (k === undefined) {
      const key = c.keys[index]!;
      k = usedByString.get(key);
      if (k === undefined) {
        usedByString.set(key, (k = rows.usedKeys.push(key) - 1));
        highest.push(-1);
      }
      usedByIndex.set(index, k);
    }
    const step = c.steps[i]!;
    if (step > highest[k]!) {
      highest[k] = step;
      seen?.add(k * 2 ** 31 + step);
    } else {
      if (!seen) {
        seen = new Set();
        for (let r = 0; r < rows.length; r++) seen.add(rows.keyIds[r]! * 2 ** 31 + rows.steps[r]!);
      }
      const pair = k * 2 ** 31 + step;
      if (seen.has(pair)) continue;
      seen.add(pair);
    }
    const row = rows.length++;
    rows.keyIds[row] = k;
    rows.steps[row] = step;
    rows.values[row] = c.values[i]!;
    rows.wallTimes?.push(wallTimes![i] ?? rows.now);
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
const COPY_SQL = {
  optimistic: ingestStatement(`${STAGING} AS src`, { optimistic: true }),
  safe: ingestStatement(`${STAGING} AS src`),
};
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
      chunk.push(
        `${rows.keyIds[i]}\t${rows.steps[i]}\t${rows.values[i]}\t${rows.wallTimes ? rows.wallTimes[i]!.toISOString() : now}\n`,
      );
      if (chunk.length === 4096) flush();
    }
    if (chunk.length) flush();
    stream.end();
  });
}
