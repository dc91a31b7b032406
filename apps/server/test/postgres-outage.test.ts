import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { encodeMetricBatch, METRIC_BATCH_CONTENT_TYPE } from '@dapple/contracts/metric-batch';
import { TRAINER_API_PREFIX } from '@dapple/contracts/trainer-protocol';
import { createDb, migrate } from '@dapple/db';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@dapple/db/embedded';
import { freePort, gqlClient } from '@dapple/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive as alive } from '../src/cli/processes.ts';
import type { SignedInUser } from './helpers.ts';
import {
  annWithDataset,
  killTrainers,
  ok,
  ownDiskStore,
  RUN,
  START_RUN,
  testRunsConfig,
  tinyConfig,
  waitForRun,
} from './runs-fixtures.ts';
import { startTestHub, type TestHub } from './support/hub.ts';

/**
 * A real Postgres outage under a running hub and a training run (#13 item 7). The project's shared test cluster
 * cannot be stopped (other files use it at the same time), so this file starts a cluster of its own, stops it for
 * several heartbeat timeouts and starts it again on the same data directory and port. Nothing is restarted but
 * Postgres: the hub must answer meanwhile (503, naming the database), and carry on afterwards with nothing lost.
 */
const PROCESS_TEST_TIMEOUT_MS = 360_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;
/** Several heartbeat timeouts: a hub that marked silent trainers lost during the outage would do so here. */
const OUTAGE_MS = 4 * HEARTBEAT_TIMEOUT_MS;

let root: string;
let pgPort: number;
let postgres: EmbeddedPostgresHandle;
let databaseUrl: string;
let removeStore: (() => Promise<void>) | undefined;
let runsConfig: Awaited<ReturnType<typeof testRunsConfig>>;
let hub: TestHub;
let ann: SignedInUser;
let versionId: string;

const startPostgres = () => startEmbeddedPostgres({ dataDir: join(root, 'data'), port: pgPort });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dapple-outage-pg-'));
  await chmod(root, 0o755); // Postgres runs as the `postgres` system user
  pgPort = await freePort();
  postgres = await startPostgres();
  const admin = new pg.Client({ connectionString: postgres.connectionString });
  await admin.connect();
  await admin.query('CREATE DATABASE dapple_outage');
  await admin.end();
  const url = new URL(postgres.connectionString);
  url.pathname = '/dapple_outage';
  databaseUrl = url.toString();
  const migrating = createDb(databaseUrl, { max: 1 });
  await migrate(migrating.db);
  await migrating.close();

  const own = await ownDiskStore('dapple-outage-store-');
  removeStore = own.remove;
  const { store, port } = own;
  runsConfig = await testRunsConfig({ heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS });
  hub = await startTestHub({
    databaseUrl,
    store,
    port,
    runs: runsConfig,
    ...(process.env.KEEP ? { logLevel: 'debug' } : {}),
  });
  ({ ann, versionId } = await annWithDataset(hub));
});

afterAll(async () => {
  if (hub) await killTrainers(hub).catch(() => {});
  await hub?.close();
  await postgres?.stop();
  if (root) await rm(root, { recursive: true, force: true });
  await removeStore?.();
  await runsConfig?.cleanup();
});

async function health(): Promise<{ status: number; body: { status: string; db: string } }> {
  const res = await fetch(`${hub.url}/healthz`);
  return { status: res.status, body: (await res.json()) as { status: string; db: string } };
}

describe('a Postgres outage under a running trainer', () => {
  it(
    'the hub answers 503 naming the database, the trainer waits it out, and everything carries on with nothing lost',
    async () => {
      const id = ok(
        await ann.client.request(START_RUN, {
          input: {
            datasetVersionId: versionId,
            name: 'through-the-outage',
            seed: 3,
            config: tinyConfig({ steps: 100_000, checkpointEvery: 25, sampleEvery: 100_000 }),
          },
        }),
      ).startRun.id as string;
      const running = await waitForRun(hub, id, (r) => r.status === 'running' && r.step >= 5, 'running');
      const pid = Number(running.executorHandle);

      await postgres.stop();

      // The hub itself keeps answering, and says why it cannot serve.
      const during = await health();
      expect(during.status).toBe(503);
      expect(during.body).toEqual({ status: 'error', db: 'unreachable' });
      // Signed in (the session lookup needs the database) and anonymous (sign-in needs it too).
      const query = await ann.client.request(`query ($id: ID!) { run(id: $id) { status } }`, { id });
      const signIn = await gqlClient(hub.graphqlUrl).request(
        `mutation ($input: SignInInput!) { signIn(input: $input) { user { id } } }`,
        { input: { email: ann.email, password: 'password-of-Ann' } },
      );
      for (const res of [query, signIn]) {
        expect(res.status, JSON.stringify(res.errors)).toBe(503);
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(res.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
        expect(res.errors?.[0]?.message).toMatch(/database is unreachable/);
      }
      // The trainer API, through express and through the binary metrics fast path (which used to leave such a
      // failure unanswered until the trainer's own 30 s timeout, holding back its heartbeats).
      const trainerCalls = [
        await fetch(`${hub.url}${TRAINER_API_PREFIX}/run`, { headers: { authorization: 'Bearer not-a-token' } }),
        await fetch(`${hub.url}${TRAINER_API_PREFIX}/metrics`, {
          method: 'POST',
          headers: { authorization: 'Bearer not-a-token', 'content-type': METRIC_BATCH_CONTENT_TYPE },
          body: Buffer.from(encodeMetricBatch([{ key: 'loss', step: 1, value: 1 }])),
        }),
      ];
      for (const res of trainerCalls) {
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('DATABASE_UNAVAILABLE');
      }

      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      expect(alive(pid), 'the trainer waited the outage out').toBe(true);
      postgres = await startPostgres();

      // Recovery without restarting the hub.
      for (let i = 0; (await health().catch(() => ({ status: 0 }))).status !== 200; i++) {
        if (i > 300) throw new Error('/healthz never recovered');
        await new Promise((r) => setTimeout(r, 200));
      }
      const after = await waitForRun(hub, id, (r) => r.step >= running.step + 30, 'training on after the outage');
      expect(after.status).toBe('running');
      const seen = ok(await ann.client.request(RUN, { id })).run;
      expect(after.attempt, JSON.stringify({ events: seen.events, logs: seen.logs })).toBe(1);
      expect(Number(after.executorHandle)).toBe(pid);
      // The hub's own writes work again: a mutation and a new sign-in.
      ok(await ann.client.request(`mutation { createTeam(input: { name: "After", slug: "after" }) { id } }`));

      ok(await ann.client.request(`mutation ($id: ID!) { cancelRun(id: $id) { status } }`, { id }));
      const done = await waitForRun(hub, id, (r) => r.status === 'cancelled', 'cancelled');
      const view = ok(await ann.client.request(RUN, { id })).run;
      expect(view.events.map((e: { toStatus: string | null }) => e.toStatus)).toEqual([
        'QUEUED',
        'STARTING',
        'RUNNING',
        'CANCELLING',
        'CANCELLED',
      ]);
      // Its output during the outage reached the run's log once the database was back. The trainer's last lines
      // are stored after its exit, which can be after the run turned cancelled (the hub says so with a later
      // runUpdated event): wait for them rather than read once.
      const logLines = async () =>
        (
          ok(await ann.client.request(`query ($id: ID!) { run(id: $id) { logs(tail: 5000) { line } } }`, { id })).run
            .logs as { line: string }[]
        ).map((l) => l.line);
      await expect
        .poll(async () => (await logLines()).some((l) => /stopping at step \d+/.test(l)), { timeout: 15_000 })
        .toBe(true);
      expect((await logLines()).some((l) => l.includes('could not reach the hub'))).toBe(true);
      // Every metric step exactly once, none lost to the outage.
      const metrics = ok(
        await ann.client.request(
          `query ($id: ID!) { run(id: $id) { metrics(keys: ["loss"], maxPoints: 100000) { bucketWidth points { step count } } } }`,
          { id },
        ),
      ).run.metrics[0];
      expect(metrics.bucketWidth).toBe(1);
      expect(metrics.points.map((p: { step: number }) => p.step)).toEqual(
        Array.from({ length: done.step }, (_, i) => i + 1),
      );
      expect(metrics.points.every((p: { count: number }) => p.count === 1)).toBe(true);
      // What was stored before the outage is all there.
      const teams = ok(await ann.client.request(`query { me { teams { slug } } }`)).me.teams as { slug: string }[];
      expect(teams.map((t) => t.slug).sort()).toEqual(['after', 'lab']);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
