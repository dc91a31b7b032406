// `npm run bench -w @dapple/server` (this file: `npx tsx apps/server/bench/metrics-ingest.ts`): metric
// ingest through the hub's trainer API over real HTTP — 20 simulated runs, each with its own run token,
// posting 1000-point batches concurrently — against raw COPY of the same batches into metric_points and
// against insertMetricPoints called in-process, all in the same run on the same embedded Postgres.
// The machine is shared and noisy: cases run interleaved for --rounds rounds; medians are reported.
// Options: --runs N (20) --batches N per run per round (10) --rounds N (3)
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { from as copyFrom } from 'pg-copy-streams';
import type pg from 'pg';
import { TRAINER_API_PREFIX } from '@dapple/client/trainer-protocol';
import { createDb, insertMetricPoints, migrate } from '@dapple/db';
import { startEmbeddedPostgres } from '@dapple/db/embedded';
import { DiskStore } from '@dapple/storage';
import { createHub } from '../src/index.ts';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, batches: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' } },
});
const ROUNDS = Number(args.rounds);
const RUNS = Number(args.runs);
const BATCHES = Number(args.batches);
const BATCH = 1000;
const KEYS = 10;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** What a trainer flushes: KEYS keys × BATCH/KEYS consecutive steps. */
function batchOf(b: number) {
  const points: { key: string; step: number; value: number }[] = [];
  for (let s = 0; s < BATCH / KEYS; s++) {
    const step = b * (BATCH / KEYS) + s;
    for (let k = 0; k < KEYS; k++) points.push({ key: `key${k}`, step, value: Math.sin(step * 0.01 + k) });
  }
  return points;
}

/** Runs in `running` state with a live run token each, as the scheduler leaves them after starting a trainer. */
async function createRunningRuns(pool: pg.Pool, teamId: string, n: number): Promise<{ id: string; token: string }[]> {
  const out: { id: string; token: string }[] = [];
  for (let i = 0; i < n; i++) {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO runs (team_id, name, config, seed, total_steps, status, attempt, started_at, last_heartbeat_at)
       VALUES ($1, 'bench', '{}', 1, 1000000, 'running', 1, now(), now()) RETURNING id`,
      [teamId],
    );
    const token = `dpr_${randomBytes(24).toString('base64url')}`;
    await pool.query('INSERT INTO run_tokens (run_id, attempt, token_hash) VALUES ($1, 1, $2)', [
      rows[0]!.id,
      createHash('sha256').update(token).digest('hex'),
    ]);
    out.push({ id: rows[0]!.id, token });
  }
  return out;
}

async function rate(runs: { id: string; token: string }[], send: (run: { id: string; token: string }, batch: ReturnType<typeof batchOf>) => Promise<void>) {
  const t0 = performance.now();
  await Promise.all(runs.map(async (run) => {
    for (let b = 0; b < BATCHES; b++) await send(run, batchOf(b));
  }));
  return (runs.length * BATCHES * BATCH) / ((performance.now() - t0) / 1000);
}

const root = await mkdtemp(join(tmpdir(), 'dapple-bench-ingest-'));
await chmod(root, 0o755);
const server = await startEmbeddedPostgres({ dataDir: join(root, 'pg'), port: await freePort() });
const direct = createDb(server.connectionString, { max: RUNS + 2 });
try {
  await migrate(direct.db);
  const pool = direct.pool;
  const { rows: team } = await pool.query<{ id: string }>(`INSERT INTO teams (name, slug) VALUES ('Bench', 'bench') RETURNING id`);
  const port = await freePort();
  const store = new DiskStore({ root: join(root, 'objects'), publicBaseUrl: `http://127.0.0.1:${port}`, signingSecret: 'x'.repeat(32) });
  // API-only hub: no scheduler, so nothing watches (or requeues) the simulated runs. Its pool gets as many
  // connections as there are writers, like the in-process case (the default of 10 would cap concurrency).
  const hub = await createHub({ databaseUrl: server.connectionString, store, port, logLevel: 'silent', runs: { executor: false }, dbPoolSize: RUNS + 5 });
  try {
    const endpoint = `${hub.url}${TRAINER_API_PREFIX}/metrics`;
    const http = async (run: { token: string }, points: ReturnType<typeof batchOf>) => {
      const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${run.token}` }, body: JSON.stringify({ points }) });
      const body = await res.text();
      if (!res.ok) throw new Error(`POST ${endpoint}: ${res.status} ${body}`);
    };
    await rate(await createRunningRuns(pool, team[0]!.id, RUNS), http); // warm-up

    const keyIds = new Map<string, number[]>();
    const rawCopy = async (run: { id: string }, batch: ReturnType<typeof batchOf>) => {
      let ids = keyIds.get(run.id);
      if (!ids) {
        const { rows } = await pool.query<{ id: number }>(
          `INSERT INTO metric_keys (run_id, key) SELECT $1, 'key' || k FROM generate_series(0, ${KEYS - 1}) k ORDER BY k RETURNING id`,
          [run.id],
        );
        keyIds.set(run.id, (ids = rows.map((r) => r.id)));
      }
      const now = new Date().toISOString();
      const text = batch.map((p) => `${ids[Number(p.key.slice(3))]}\t${p.step}\t${p.value}\t${now}\n`).join('');
      const client = await pool.connect();
      try {
        await new Promise<void>((resolve, reject) => {
          const stream = client.query(copyFrom('COPY metric_points (key_id, step, value, wall_time) FROM STDIN'));
          stream.on('error', reject).on('finish', resolve);
          stream.end(text);
        });
      } finally {
        client.release();
      }
    };
    const cases: Record<string, (run: { id: string; token: string }, batch: ReturnType<typeof batchOf>) => Promise<void>> = {
      'raw-copy': rawCopy,
      'insertMetricPoints-in-process': async (run, batch) => void (await insertMetricPoints(pool, run.id, batch)),
      'trainer-api-http': http,
    };
    const samples: Record<string, number[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, send] of Object.entries(cases)) (samples[name] ??= []).push(await rate(await createRunningRuns(pool, team[0]!.id, RUNS), send));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const copy = median(samples['raw-copy']!);
    for (const [name, xs] of Object.entries(samples)) {
      const m = median(xs);
      console.log(JSON.stringify({
        bench: 'metrics.ingest.hub', case: name, runs: RUNS, batch: BATCH, rounds: ROUNDS,
        pointsPerSec: Math.round(m), samples: xs.map(Math.round),
        ...(name !== 'raw-copy' && { ratioToRawCopy: +(m / copy).toFixed(3) }),
      }));
    }
  } finally {
    await hub.close();
  }
} finally {
  await direct.close();
  await server.stop();
  await rm(root, { recursive: true, force: true });
}
