// `npm run bench -w @dapple/server` (this file: `npx tsx apps/server/bench/metrics-ingest.ts`): metric
// ingest through the hub's trainer API over real HTTP — 20 simulated runs, each with its own run token,
// posting 1000-point batches concurrently with the trainer's own TrainerClient (binary body), and with
// the older JSON body — against raw COPY of the same batches into metric_points and against
// insertMetricPoints called in-process, all in the same run on the same embedded Postgres.
// The goal (issue #5): trainer-api-http ≥ 0.5 of raw-copy and ≥ 100k points/s.
// The hub runs in a child process (hub-child.ts) as in production, where trainers are other processes;
// `--hub in-process` puts it in this process (the simulated trainers' fetch then costs the hub's thread).
// The machine is shared and noisy: cases run interleaved for --rounds rounds; medians are reported, with
// the CPU each case cost per 1000 points in this process (simulated trainers, COPY client, in-process
// ingest), in the hub process and in Postgres.
// Options: --runs N (20) --batches N per run per round (10) --rounds N (5) --hub child|in-process
// --cases a,b (all) --hub-cpu-prof DIR (writes the child hub's `node --cpu-prof` profile there)
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { TrainerClient } from '@dapple/contracts/trainer-client';
import { TRAINER_API_PREFIX } from '@dapple/contracts/trainer-protocol';
import { createDb, insertMetricPoints } from '@dapple/db';
import { rawCopyBaseline } from '@dapple/db/bench';
import { createHub } from '../src/index.ts';
import { freePort, startBenchDatabase } from './bench-database.ts';
import { benchDiskStore } from './bench-hub.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    batches: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    hub: { type: 'string', default: 'child' },
    cases: { type: 'string' },
    'hub-cpu-prof': { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const RUNS = Number(args.runs);
const BATCHES = Number(args.batches);
const BATCH = 1000;
const KEYS = 10;

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

/** CPU ms (user + system, all threads) of a process so far; 0 once it has exited. */
async function processCpuMs(pid: number | string): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields after "pid (comm) "
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime in ticks; USER_HZ is 100 on Linux
}

/** CPU ms used so far by the Postgres server: the postmaster and its live children (backends outlive a case: pooled). */
async function postgresCpuMs(dataDir: string): Promise<number> {
  const postmaster = (await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]!.trim();
  const children = (await readFile(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8'))
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  let ms = 0;
  for (const pid of [postmaster, ...children]) ms += await processCpuMs(pid);
  return ms;
}

/** The hub in a child process (see hub-child.ts); resolves once it listens. */
function startHubChild(
  databaseUrl: string,
  port: number,
  storeRoot: string,
  poolSize: number,
  cpuProfDir?: string,
): Promise<{ url: string; child: ChildProcess }> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'hub-child.ts');
  const execArgv = ['--import', 'tsx', ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [])];
  const child = fork(script, [databaseUrl, String(port), storeRoot, String(poolSize)], { execArgv, stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (msg) => resolve({ url: (msg as { url: string }).url, child }));
    child.once('exit', (code) => reject(new Error(`hub child exited with ${code} before listening`)));
  });
}

interface Sample {
  pointsPerSec: number;
  benchCpuMsPerKPoints: number;
  hubCpuMsPerKPoints: number;
  postgresCpuMsPerKPoints: number;
}

async function rate(
  pgDir: string,
  hubPid: number | undefined,
  runs: { id: string; token: string }[],
  send: (run: { id: string; token: string }, batch: ReturnType<typeof batchOf>) => Promise<void>,
): Promise<Sample> {
  const pg0 = await postgresCpuMs(pgDir);
  const hub0 = hubPid ? await processCpuMs(hubPid) : 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    runs.map(async (run) => {
      for (let b = 0; b < BATCHES; b++) await send(run, batchOf(b));
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const kPoints = (runs.length * BATCHES * BATCH) / 1000;
  return {
    pointsPerSec: (kPoints * 1000) / seconds,
    benchCpuMsPerKPoints: (cpu.user + cpu.system) / 1000 / kPoints,
    hubCpuMsPerKPoints: hubPid ? ((await processCpuMs(hubPid)) - hub0) / kPoints : 0,
    postgresCpuMsPerKPoints: ((await postgresCpuMs(pgDir)) - pg0) / kPoints,
  };
}

const database = await startBenchDatabase('ingest');
const { root, pgDir } = database;
const direct = createDb(database.connectionString, { max: RUNS + 2 });
try {
  const pool = direct.pool;
  const { rows: team } = await pool.query<{ id: string }>(
    `INSERT INTO teams (name, slug) VALUES ('Bench', 'bench') RETURNING id`,
  );
  const port = await freePort();
  // API-only hub: no scheduler, so nothing watches (or requeues) the simulated runs. Its pool gets as many
  // connections as there are writers, like the in-process case (the default of 10 would cap concurrency).
  let hub: { url: string; pid?: number; close(): Promise<void> };
  if (args.hub === 'in-process') {
    const store = benchDiskStore(root, port);
    hub = await createHub({
      databaseUrl: database.connectionString,
      store,
      port,
      logLevel: 'silent',
      runs: { executor: false },
      dbPoolSize: RUNS + 5,
    });
  } else {
    const { url, child } = await startHubChild(
      database.connectionString,
      port,
      join(root, 'objects'),
      RUNS + 5,
      args['hub-cpu-prof'],
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    hub = { url, pid: child.pid, close: async () => void (child.send('close'), await exited) };
  }
  try {
    const endpoint = `${hub.url}${TRAINER_API_PREFIX}/metrics`;
    const clients = new Map<string, TrainerClient>();
    const http = async (run: { token: string }, points: ReturnType<typeof batchOf>) => {
      let client = clients.get(run.token);
      if (!client) clients.set(run.token, (client = new TrainerClient({ hubUrl: hub.url, runToken: run.token })));
      await client.metrics(points);
    };
    const httpJson = async (run: { token: string }, points: ReturnType<typeof batchOf>) => {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${run.token}` },
        body: JSON.stringify({ points }),
      });
      const body = await res.text();
      if (!res.ok) throw new Error(`POST ${endpoint}: ${res.status} ${body}`);
    };
    await rate(pgDir, hub.pid, await createRunningRuns(pool, team[0]!.id, RUNS), http); // warm-up

    const copyBatch = rawCopyBaseline(pool, KEYS);
    const rawCopy = (run: { id: string }, batch: ReturnType<typeof batchOf>) => copyBatch(run.id, batch);
    const cases: Record<
      string,
      (run: { id: string; token: string }, batch: ReturnType<typeof batchOf>) => Promise<void>
    > = {
      'raw-copy': rawCopy,
      'insertMetricPoints-in-process': async (run, batch) => void (await insertMetricPoints(pool, run.id, batch)),
      'trainer-api-http': http,
      'trainer-api-http-json': httpJson,
    };
    const only = args.cases?.split(',');
    const selected = Object.entries(cases).filter(([name]) => !only || only.includes(name));
    const samples: Record<string, Sample[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, send] of selected)
        (samples[name] ??= []).push(await rate(pgDir, hub.pid, await createRunningRuns(pool, team[0]!.id, RUNS), send));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const copy = samples['raw-copy'] && median(samples['raw-copy'].map((x) => x.pointsPerSec));
    for (const [name, xs] of Object.entries(samples)) {
      const m = median(xs.map((x) => x.pointsPerSec));
      console.log(
        JSON.stringify({
          bench: 'metrics.ingest.hub',
          case: name,
          hub: args.hub,
          runs: RUNS,
          batch: BATCH,
          rounds: ROUNDS,
          pointsPerSec: Math.round(m),
          samples: xs.map((x) => Math.round(x.pointsPerSec)),
          ...(name !== 'raw-copy' && copy && { ratioToRawCopy: +(m / copy).toFixed(3) }),
          benchCpuMsPerKPoints: +median(xs.map((x) => x.benchCpuMsPerKPoints)).toFixed(2),
          ...(name.startsWith('trainer-api') &&
            hub.pid && { hubCpuMsPerKPoints: +median(xs.map((x) => x.hubCpuMsPerKPoints)).toFixed(2) }),
          postgresCpuMsPerKPoints: +median(xs.map((x) => x.postgresCpuMsPerKPoints)).toFixed(2),
        }),
      );
    }
  } finally {
    await hub.close();
  }
} finally {
  await direct.close();
  await database.close();
}
