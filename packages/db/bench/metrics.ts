// `npm run bench -w @dapple/db`: metrics hot path against an embedded Postgres. One JSON line per case.
//  - ingest: points/s with 20 concurrent writers sending 1000-point batches through insertMetricPoints
//    (both methods), against raw COPY of the same batches straight into metric_points (no conflict
//    handling, no rollups) in the same run;
//  - query: queryMetrics(maxPoints 1000) over a 1,000,000-point series, p50/p95, against the naive
//    GROUP BY over raw rows.
// The machine is shared and noisy: ingest cases run interleaved for --rounds rounds; medians are reported.
// Options: --writers N (20) --batches N per writer per round (10) --rounds N (3) --series-points N (1000000)
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { createDb, insertMetricPoints, migrate, queryMetrics, type MetricPointInput } from '../src/index.ts';
import { startEmbeddedPostgres } from '../src/embedded.ts';
import { rawCopyBaseline } from './raw-copy.ts';

const { values: args } = parseArgs({
  options: {
    writers: { type: 'string', default: '20' },
    batches: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    'series-points': { type: 'string', default: '1000000' },
    'query-iterations': { type: 'string', default: '60' },
  },
});
const WRITERS = Number(args.writers);
const BATCHES = Number(args.batches);
const ROUNDS = Number(args.rounds);
const BATCH = 1000; // what a trainer sends: 10 keys × 100 steps
const KEYS_PER_RUN = 10;
const SERIES_POINTS = Number(args['series-points']);
const QUERY_ITERATIONS = Number(args['query-iterations']);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function line(record: Record<string, unknown>) {
  console.log(JSON.stringify(record));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function createRuns(pool: pg.Pool, n: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `WITH t AS (INSERT INTO teams (name, slug) VALUES ('Bench', 'bench-' || gen_random_uuid()) RETURNING id)
     INSERT INTO runs (team_id, name, config, seed, total_steps) SELECT t.id, 'bench', '{}'::jsonb, 1, 1 FROM t, generate_series(1, $1) RETURNING id`,
    [n],
  );
  return rows.map((r) => r.id);
}

/** Batch b of a run: KEYS_PER_RUN keys × (BATCH / KEYS_PER_RUN) consecutive steps, like a trainer flush. */
function batchOf(b: number): MetricPointInput[] {
  const steps = BATCH / KEYS_PER_RUN;
  const points: MetricPointInput[] = [];
  for (let s = 0; s < steps; s++) {
    const step = b * steps + s;
    for (let k = 0; k < KEYS_PER_RUN; k++) points.push({ key: `key${k}`, step, value: Math.sin(step * 0.01 + k) });
  }
  return points;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Each writer owns a run; all send their batches concurrently. Returns points/s. */
async function ingest(
  pool: pg.Pool,
  send: (runId: string, batch: MetricPointInput[]) => Promise<void>,
): Promise<number> {
  const runs = await createRuns(pool, WRITERS);
  const ms = await timed(() =>
    Promise.all(
      runs.map(async (runId) => {
        for (let b = 0; b < BATCHES; b++) await send(runId, batchOf(b));
      }),
    ),
  );
  return (WRITERS * BATCHES * BATCH) / (ms / 1000);
}

/** Baseline: COPY the same batches straight into metric_points. */
function rawCopy(pool: pg.Pool): Promise<number> {
  return ingest(pool, rawCopyBaseline(pool, KEYS_PER_RUN));
}

const root = await mkdtemp(join(tmpdir(), 'dapple-bench-metrics-'));
await chmod(root, 0o755);
const server = await startEmbeddedPostgres({ dataDir: join(root, 'pg'), port: await freePort() });
const handle = createDb(server.connectionString, { max: WRITERS + 2 });
try {
  await migrate(handle.db);
  const { pool } = handle;

  // Ingest: warm up once, then baseline and candidates interleaved in the same run.
  await ingest(pool, async (runId, batch) => void (await insertMetricPoints(pool, runId, batch)));
  const cases: Record<string, () => Promise<number>> = {
    'raw-copy': () => rawCopy(pool),
    'insertMetricPoints:unnest': () =>
      ingest(pool, async (runId, batch) => void (await insertMetricPoints(pool, runId, batch, { method: 'unnest' }))),
    'insertMetricPoints:copy': () =>
      ingest(pool, async (runId, batch) => void (await insertMetricPoints(pool, runId, batch, { method: 'copy' }))),
  };
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(cases)) (samples[name] ??= []).push(await run());
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const copy = median(samples['raw-copy']!);
  for (const [name, xs] of Object.entries(samples)) {
    const m = median(xs);
    line({
      bench: 'metrics.ingest',
      case: name,
      writers: WRITERS,
      batch: BATCH,
      rounds: ROUNDS,
      pointsPerSec: Math.round(m),
      samples: xs.map(Math.round),
      ...(name !== 'raw-copy' && { ratioToRawCopy: +(m / copy).toFixed(3) }),
    });
  }

  // Query: one series of SERIES_POINTS points (loaded through insertMetricPoints so rollups exist).
  const [runId] = await createRuns(pool, 1);
  const loadMs = await timed(async () => {
    for (let s = 0; s < SERIES_POINTS; s += 100_000) {
      const points = Array.from({ length: Math.min(100_000, SERIES_POINTS - s) }, (_, i) => ({
        key: 'loss',
        step: s + i,
        value: Math.exp(-(s + i) / 3e5) + Math.random() * 0.01,
      }));
      await insertMetricPoints(pool, runId!, points, { method: 'copy' });
    }
  });
  line({
    bench: 'metrics.load',
    points: SERIES_POINTS,
    seconds: +(loadMs / 1000).toFixed(2),
    pointsPerSec: Math.round(SERIES_POINTS / (loadMs / 1000)),
  });
  await pool.query('VACUUM ANALYZE metric_points');
  await pool.query('VACUUM ANALYZE metric_rollups');

  const sample = async (fn: (i: number) => Promise<unknown>, n: number) => {
    await fn(0);
    const ms: number[] = [];
    for (let i = 0; i < n; i++) ms.push(await timed(() => fn(i)));
    ms.sort((a, b) => a - b);
    return { p50: +percentile(ms, 50).toFixed(2), p95: +percentile(ms, 95).toFixed(2) };
  };
  const naive = await sample(
    () =>
      pool.query(
        `SELECT p.step >> 10 AS b, avg(value), min(value), max(value), count(*), (array_agg(value ORDER BY step DESC))[1]
         FROM metric_points p JOIN metric_keys k ON k.id = p.key_id WHERE k.run_id = $1 AND k.key = 'loss' GROUP BY 1 ORDER BY 1`,
        [runId],
      ),
    Math.max(5, Math.floor(QUERY_ITERATIONS / 6)),
  );
  line({
    bench: 'metrics.query',
    case: 'naive-group-by',
    points: SERIES_POINTS,
    maxPoints: 1000,
    p50Ms: naive.p50,
    p95Ms: naive.p95,
  });
  const full = await sample(
    () => queryMetrics(pool, { runId: runId!, keys: ['loss'], maxPoints: 1000 }),
    QUERY_ITERATIONS,
  );
  line({
    bench: 'metrics.query',
    case: 'queryMetrics:full-range',
    points: SERIES_POINTS,
    maxPoints: 1000,
    p50Ms: full.p50,
    p95Ms: full.p95,
    speedupP50: +(naive.p50 / full.p50).toFixed(1),
  });
  // Random unaligned ranges exercise the ragged edges (raw + finer rollups).
  const ranged = await sample((i) => {
    const from = (i * 7919 * 13) % (SERIES_POINTS / 2);
    return queryMetrics(pool, {
      runId: runId!,
      keys: ['loss'],
      maxPoints: 1000,
      fromStep: from,
      toStep: from + Math.floor(SERIES_POINTS / 3) + i,
    });
  }, QUERY_ITERATIONS);
  line({
    bench: 'metrics.query',
    case: 'queryMetrics:random-range',
    points: SERIES_POINTS,
    maxPoints: 1000,
    p50Ms: ranged.p50,
    p95Ms: ranged.p95,
    speedupP50: +(naive.p50 / ranged.p50).toFixed(1),
  });
} finally {
  await handle.close();
  await server.stop();
  await rm(root, { recursive: true, force: true });
}
