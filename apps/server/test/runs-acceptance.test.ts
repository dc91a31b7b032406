import { usableCpus } from '@dapple/models/parallel';
import { startTestHub, type TestHub } from './support/hub.ts';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMPLETE,
  createDataset,
  createUpload,
  uploadAll,
  waitForVersion,
  type LocalFile,
} from './datasets-fixtures.ts';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import {
  blobImages,
  killTrainers,
  ok,
  RUN,
  START_RUN,
  testRunsConfig,
  tinyConfig,
  waitForRun,
} from './runs-fixtures.ts';

/** Real processes on 2 shared cores while other test files run: generous, never a timing assertion. */
const PROCESS_TEST_TIMEOUT_MS = 360_000;

/**
 * The whole loop over real HTTP, as the web app would drive it: upload a folder of generated images →
 * prepared dataset version → startRun (tiny preset) → live metrics over the runMetrics subscription →
 * a checkpoint and a sample grid appear → cancel → resume → succeeded.
 */
let hub: TestHub;
let ann: SignedInUser;
let teamId: string;
let runsConfig: Awaited<ReturnType<typeof testRunsConfig>>;
const clients: Client[] = [];

beforeAll(async () => {
  // The trainer as production starts it: as many data-parallel CPU workers as usable CPUs (testRunsConfig's one
  // thread is for the tests of the hub's side).
  runsConfig = await testRunsConfig({ trainerEnv: { DAPPLE_TF_BACKEND: 'wasm' } });
  hub = await startTestHub({ runs: runsConfig, jobs: { pollingIntervalSeconds: 0.5 } });
  ann = await signUpUser(hub, 'Ann');
  teamId = await createTeam(ann, 'Lab', 'lab');
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  if (hub) await killTrainers(hub);
  await hub?.close();
  await runsConfig?.cleanup();
});

function wsClient(): Client {
  const cookie = ann.client.cookies.header()!;
  class CookieWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { cookie } });
    }
  }
  const client = createClient({ url: hub.wsUrl, webSocketImpl: CookieWebSocket, retryAttempts: 0 });
  clients.push(client);
  return client;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('acceptance: dataset → run → live metrics → artifacts → cancel → resume → succeeded', () => {
  it(
    'works end to end over HTTP and WebSocket',
    async () => {
      // 1. A dataset from generated images through the upload protocol and the dataset.prepare job.
      const datasetId = await createDataset(ann.client, teamId, 'blobs', 8, 1);
      const files: LocalFile[] = (await blobImages(24, 12)).map((f) => ({ ...f, contentType: 'image/png' }));
      const upload = ok(await createUpload(ann.client, datasetId, files)).createUpload;
      await uploadAll(upload, files);
      const versionId = ok(await ann.client.request(COMPLETE, { uploadId: upload.id })).completeUpload.version
        .id as string;
      const version = await waitForVersion(ann.client, versionId);
      expect(version.status).toBe('READY');

      // 2. Start a tiny run; watch it through both subscriptions.
      const config = tinyConfig({ steps: 300, checkpointEvery: 20, sampleEvery: 20, keepCheckpoints: 3 });
      const id = ok(
        await ann.client.request(START_RUN, {
          input: { datasetVersionId: versionId, name: 'acceptance', seed: 3, config },
        }),
      ).startRun.id as string;
      const ws = wsClient();
      const points: { key: string; step: number; value: number }[] = [];
      const metricErrors: unknown[] = [];
      ws.subscribe(
        {
          query: `subscription ($id: ID!) { runMetrics(id: $id, keys: ["loss", "grad_norm"]) { runId points { key step value } } }`,
          variables: { id },
        },
        {
          next: (r) => (r.errors ? metricErrors.push(...r.errors) : points.push(...(r.data as any).runMetrics.points)),
          error: (e) => metricErrors.push(e),
          complete: () => {},
        },
      );
      const statuses: string[] = [];
      ws.subscribe(
        { query: `subscription ($id: ID!) { runUpdated(id: $id) { status progress { step } } }`, variables: { id } },
        {
          next: (r) => statuses.push((r.data as any)?.runUpdated.status),
          error: (e) => metricErrors.push(e),
          complete: () => {},
        },
      );

      // 3. Metrics stream in live; a checkpoint and a sample grid appear.
      await until(() => points.filter((p) => p.key === 'loss').length >= 10, 'loss points over runMetrics');
      expect(metricErrors).toEqual([]);
      const lossSteps = points.filter((p) => p.key === 'loss').map((p) => p.step);
      expect(new Set(lossSteps).size).toBe(lossSteps.length); // each step once
      expect(points.every((p) => Number.isFinite(p.value))).toBe(true);
      expect(statuses).toContain('RUNNING');

      let run: any;
      await until(async () => {
        run = ok(await ann.client.request(RUN, { id })).run;
        return run.checkpoints.length > 0 && run.sampleGrids.some((g: { step: number }) => g.step > 0);
      }, 'a checkpoint and a sample grid');
      expect(run.sampleGrids[0].step).toBe(0); // the step-0 grid from the same seeds
      const png = await fetch(run.sampleGrids.at(-1).url);
      expect(png.status).toBe(200);
      expect(
        Buffer.from(await png.arrayBuffer())
          .subarray(1, 4)
          .toString(),
      ).toBe('PNG');
      expect(run.progress.totalSteps).toBe(300);

      // 4. Cancel → cancelled (with a checkpoint at the stop step); resume → continues → succeeded.
      ok(await ann.client.request(`mutation ($id: ID!) { cancelRun(id: $id) { status } }`, { id }));
      const cancelled = await waitForRun(
        hub,
        id,
        (r) => r.status === 'cancelled' || r.status === 'succeeded' || r.status === 'failed',
        'cancelled',
      );
      expect(cancelled.status).toBe('cancelled');
      await until(() => statuses.includes('CANCELLED'), 'CANCELLED over runUpdated', 30_000);
      ok(await ann.client.request(`mutation ($id: ID!) { resumeRun(id: $id) { status } }`, { id }));
      const done = await waitForRun(hub, id, (r) => r.status === 'succeeded' || r.status === 'failed', 'succeeded');
      expect(done.status, done.error ?? '').toBe('succeeded');
      expect(done.step).toBe(300);
      await until(() => statuses.includes('SUCCEEDED'), 'SUCCEEDED over runUpdated', 30_000);
      const final = ok(await ann.client.request(RUN, { id })).run;
      expect(final.checkpoints.map((c: { step: number }) => c.step).at(-1)).toBe(300);
      expect(
        final.logs.some(
          (l: { attempt: number; line: string }) =>
            l.attempt === 2 && l.line.includes(`resumed from the checkpoint of step ${cancelled.step}`),
        ),
      ).toBe(true);
      // The local executor starts the bundled trainer (executors/trainer-bundle.ts), whose worker threads start from
      // the bundled replica entry: with two usable CPUs or more, every attempt trains on several of them (a worker
      // thread that cannot start would fall back to one thread and say so).
      const lines: string[] = final.logs.map((l: { line: string }) => l.line);
      expect(lines.filter((l) => l.includes('could not start'))).toEqual([]);
      if (usableCpus() >= 2) expect(lines.filter((l) => /CPU workers: [2-9]/.test(l))).toHaveLength(2);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
