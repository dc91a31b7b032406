// `npm run bench -w @dapple/server`: the sampling service against the raw sampler.
//
//   tsx bench/sampling.ts [--presets tiny,small] [--rounds 2] [--images 16] [--steps 50]
//
// 1. sampling_throughput: per preset, --images × --steps DDIM through the hub (generateSamples over HTTP →
//    worker thread → PNGs in the DiskStore → SUCCEEDED) against `createModelSampler(...).sample` of the same
//    weights in this process (wasm, one thread each). Rounds alternate raw/service; medians. The model is
//    loaded once before timing on both sides (the service's LRU keeps it). Target: overhead ≤ 10 %.
// 2. sampling_fairness: three teams submit 3 jobs each at once; the start order should alternate teams.
// JSON lines on stdout.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { models, modelVersions, runs, sampleJobs, type ModelVersionConfig } from '@dapple/db';
import {
  artifactsToModelJson,
  createUNet,
  memoryHandler,
  presetConfig,
  Rng,
  saveInferenceWeights,
  selectBackend,
  weightDataToBuffer,
  type JsonValue,
  type PresetName,
  loadInferenceWeights,
} from '@dapple/models';
import { createModelSampler, samplingSpecFromConfig } from '@dapple/models/browser';
import type { DiskStore } from '@dapple/storage';
import { asc, inArray } from 'drizzle-orm';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { createHub, type Hub } from '../src/index.ts';
import { freePort, startBenchDatabase } from './bench-database.ts';
import { benchDiskStore, postGraphql } from './bench-hub.ts';

const { values } = parseArgs({
  options: {
    presets: { type: 'string', default: 'tiny,small' },
    rounds: { type: 'string', default: '2' },
    images: { type: 'string', default: '16' },
    steps: { type: 'string', default: '50' },
  },
});
const PRESETS = values.presets.split(',') as PresetName[];
const ROUNDS = Number(values.rounds);
const IMAGES = Number(values.images);
const STEPS = Number(values.steps);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A version row + inference weights in the store, as publishModel leaves them. */
async function publish(hub: Hub, store: DiskStore, teamId: string, userId: string, preset: PresetName) {
  const unet = presetConfig(preset, { channels: 3, dropout: 0 });
  const config: ModelVersionConfig = {
    unet: unet as unknown as Record<string, unknown>,
    schedule: { kind: 'cosine', T: 1000 },
    predictionType: 'eps',
  };
  const [run] = await hub.db
    .insert(runs)
    .values({
      teamId,
      name: `bench-${preset}`,
      config: { preset },
      seed: 1,
      status: 'succeeded',
      totalSteps: 1,
      createdBy: userId,
    })
    .returning();
  const [model] = await hub.db
    .insert(models)
    .values({ teamId, name: `bench-${preset}-${run!.id.slice(0, 6)}`, createdBy: userId, lastVersionNumber: 1 })
    .returning();
  const net = createUNet(unet, 1);
  const rng = new Rng(2);
  for (const v of net.variables.values()) v.assign(tf.tidy(() => tf.add(v, tf.mul(rng.normal(v.shape), 0.02))));
  const handler = memoryHandler();
  await saveInferenceWeights(handler, {
    weights: net.variables,
    config: config as unknown as JsonValue,
  });
  net.dispose();
  const prefix = `models/${model!.id}/v1/`;
  const weights = Buffer.from(weightDataToBuffer(handler.artifacts!.weightData));
  const json = Buffer.from(JSON.stringify(artifactsToModelJson(handler.artifacts!)));
  await store.put(`${prefix}weights.bin`, weights, { size: weights.length });
  await store.put(`${prefix}model.json`, json, { size: json.length });
  const [version] = await hub.db
    .insert(modelVersions)
    .values({
      modelId: model!.id,
      number: 1,
      runId: run!.id,
      step: 1,
      objectPrefix: prefix,
      weightsDtype: 'float32',
      weightsBytes: weights.length,
      config,
      resolution: unet.resolution,
      channels: 3,
      modelCard: '# bench',
    })
    .returning();
  return { version: version!, handler, config };
}

const db = await startBenchDatabase('sampling');
try {
  const port = await freePort();
  const store = benchDiskStore(db.root, port);
  const hub = await createHub({
    databaseUrl: db.connectionString,
    store,
    port,
    logLevel: 'silent',
    runs: { executor: false },
    sampling: { workers: 1, perTeamConcurrency: 1 },
    auth: { signUp: 'open' }, // several users, no invites
  });
  await selectBackend({ prefer: 'wasm' });
  try {
    const post = <T>(query: string, variables: object, cookie?: string) =>
      postGraphql<T>(hub.graphqlUrl, query, variables, cookie);
    const user = async (name: string) => {
      const { data, res } = await post<{ signUp: { user: { id: string } } }>(
        `mutation ($i: SignUpInput!) { signUp(input: $i) { user { id } } }`,
        { i: { email: `${name}@example.com`, password: `password-${name}`, name } },
      );
      const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
      const team = await post<{ createTeam: { id: string } }>(
        `mutation ($i: CreateTeamInput!) { createTeam(input: $i) { id } }`,
        { i: { name, slug: name } },
        cookie,
      );
      return { id: data.signUp.user.id, cookie, teamId: team.data.createTeam.id };
    };
    const generate = async (cookie: string, input: object) =>
      (
        await post<{ generateSamples: { id: string } }>(
          `mutation ($i: GenerateSamplesInput!) { generateSamples(input: $i) { id } }`,
          { i: input },
          cookie,
        )
      ).data.generateSamples.id;
    // Waits like the dashboard does: a sampleJobUpdated subscription (no polling load on the 2-core machine).
    const wait = (cookie: string, id: string) =>
      new Promise<void>((resolve, reject) => {
        class CookieWebSocket extends WebSocket {
          constructor(url: string, protocols?: string | string[]) {
            super(url, protocols, { headers: { cookie } });
          }
        }
        const client = createClient({
          url: hub.graphqlUrl.replace(/^http/, 'ws'),
          webSocketImpl: CookieWebSocket,
          retryAttempts: 0,
        });
        const finish = (err?: Error) => {
          void client.dispose();
          if (err) reject(err);
          else resolve();
        };
        client.subscribe(
          { query: `subscription ($id: ID!) { sampleJobUpdated(id: $id) { status error } }`, variables: { id } },
          {
            next: (r) => {
              const job = (r.data as { sampleJobUpdated?: { status: string; error: string | null } } | undefined)
                ?.sampleJobUpdated;
              if (!job) return finish(new Error(JSON.stringify(r.errors)));
              if (job.status === 'SUCCEEDED') finish();
              else if (job.status === 'FAILED') finish(new Error(`sample job failed: ${job.error}`));
            },
            error: (e) => finish(e instanceof Error ? e : new Error(String(e))),
            complete: () => {},
          },
        );
      });

    const bench = await user('bench');
    for (const preset of PRESETS) {
      const { version, handler, config } = await publish(hub, store, bench.teamId, bench.id, preset);
      const raw = createModelSampler(await loadInferenceWeights(handler), samplingSpecFromConfig(config));
      const request = { count: IMAGES, steps: STEPS, sampler: 'ddim' as const, seed: 1 };
      // Warm both sides: the worker loads the model into its LRU, this process compiles its kernels.
      await wait(
        bench.cookie,
        await generate(bench.cookie, { modelVersionId: version.id, count: 1, steps: 1, seed: 0 }),
      );
      await raw.sample({ ...request, count: 1, steps: 1 });
      const rawS: number[] = [];
      const serviceS: number[] = [];
      /** Pure sampling time inside the worker (what is left of service_s is queueing, PNG, store, DB, notify). */
      const workerS: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        let t = performance.now();
        await raw.sample(request);
        rawS.push((performance.now() - t) / 1000);
        t = performance.now();
        const jobId = await generate(bench.cookie, { modelVersionId: version.id, ...request, sampler: 'DDIM' });
        await wait(bench.cookie, jobId);
        serviceS.push((performance.now() - t) / 1000);
        workerS.push((hub.services.sampling.scheduler.timings.get(jobId)?.sampleMs ?? NaN) / 1000);
      }
      raw.dispose();
      const rawRate = IMAGES / median(rawS);
      const serviceRate = IMAGES / median(serviceS);
      console.log(
        JSON.stringify({
          bench: 'sampling_throughput',
          preset,
          params: raw.paramCount,
          images: IMAGES,
          steps: STEPS,
          rounds: ROUNDS,
          raw_images_per_s: +rawRate.toFixed(3),
          service_images_per_s: +serviceRate.toFixed(3),
          ratio: +(serviceRate / rawRate).toFixed(3),
          overhead_pct: +((1 - serviceRate / rawRate) * 100).toFixed(1),
          target: 'overhead ≤ 10%',
          // Less noisy on a shared machine: the part of service time spent outside the sampler (queue, worker
          // hand-off, PNG encoding, store, DB, NOTIFY, GraphQL), per round.
          non_sampling_overhead_pct: +(median(serviceS.map((s, i) => (s - workerS[i]!) / s)) * 100).toFixed(1),
          raw_s: rawS.map((s) => +s.toFixed(2)),
          service_s: serviceS.map((s) => +s.toFixed(2)),
          worker_sample_s: workerS.map((s) => +s.toFixed(2)),
        }),
      );
    }

    // Fairness: three teams, each with its own tiny model, submit three jobs each at the same moment.
    const teams = await Promise.all(['ada', 'bob', 'cyd'].map(user));
    const versions = await Promise.all(
      teams.map(async (t) => (await publish(hub, store, t.teamId, t.id, 'tiny')).version.id),
    );
    const submitted = performance.now();
    const ids = await Promise.all(
      teams.map(async (t, i) => {
        const mine: string[] = [];
        for (let n = 0; n < 3; n++)
          mine.push(await generate(t.cookie, { modelVersionId: versions[i], count: 4, steps: 20, seed: n }));
        return mine;
      }),
    );
    await Promise.all(ids.flatMap((mine, i) => mine.map((id) => wait(teams[i]!.cookie, id))));
    const rows = await hub.db
      .select()
      .from(sampleJobs)
      .where(inArray(sampleJobs.id, ids.flat()))
      .orderBy(asc(sampleJobs.startedAt));
    const letter = new Map(teams.map((t, i) => [t.teamId, 'ABC'[i]!]));
    const order = rows.map((r) => letter.get(r.teamId)).join('');
    let maxRun = 1;
    for (let i = 1, run = 1; i < order.length; i++)
      maxRun = Math.max(maxRun, (run = order[i] === order[i - 1] ? run + 1 : 1));
    const finishS = (team: string) =>
      median(rows.filter((r) => r.teamId === team).map((r) => (r.finishedAt!.getTime() - r.queuedAt.getTime()) / 1000));
    console.log(
      JSON.stringify({
        bench: 'sampling_fairness',
        teams: 3,
        jobs_per_team: 3,
        start_order: order,
        max_consecutive_same_team: maxRun,
        target: 'max_consecutive_same_team = 1 (teams alternate)',
        median_latency_s_by_team: Object.fromEntries(
          teams.map((t, i): [string, number] => ['ABC'.charAt(i), +finishS(t.teamId).toFixed(2)]),
        ),
        total_s: +((performance.now() - submitted) / 1000).toFixed(2),
      }),
    );
  } finally {
    await hub.close();
  }
} finally {
  await db.close();
}
