import { createTestDatabase, type TestDatabase } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import {
  killTrainers,
  ok,
  readyDatasetVersion,
  runRow,
  START_RUN,
  testRunsConfig,
  tinyConfig,
} from './runs-fixtures.ts';

/**
 * Two hubs on one database: subscriptions on one see changes made through the other (LISTEN/NOTIFY),
 * and two schedulers never start the same run. The "trainers" here are plain `sleep` processes started
 * by a real LocalExecutor: this test is about claiming, not training.
 */
let db: TestDatabase;
let hubA: TestHub;
let hubB: TestHub;
let ann: SignedInUser;
let teamId: string;
let versionId: string;
const configs: Awaited<ReturnType<typeof testRunsConfig>>[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  const a = await testRunsConfig({ host: 'machine-a', executor: false });
  const b = await testRunsConfig({ host: 'machine-b', executor: false });
  configs.push(a, b);
  hubA = await startTestHub({ databaseUrl: db.connectionString, runs: a });
  hubB = await startTestHub({ databaseUrl: db.connectionString, store: hubA.store, runs: b });
  ann = await signUpUser(hubA, 'Ann');
  teamId = await createTeam(ann, 'Lab', 'lab');
  ({ versionId } = await readyDatasetVersion(hubA, teamId, { n: 8 }));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  for (const h of [hubA, hubB]) if (h) await killTrainers(h);
  await hubA?.close();
  await hubB?.close();
  await db?.drop();
  for (const c of configs) await c.cleanup();
});

describe('several hubs on one database', () => {
  it('a runUpdated subscription on hub B sees a cancel made through hub A', async () => {
    const id = ok(
      await ann.client.request(START_RUN, { input: { datasetVersionId: versionId, name: 'x', config: tinyConfig() } }),
    ).startRun.id;
    const cookie = ann.client.cookies.header()!;
    class CookieWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { cookie } });
      }
    }
    const client = createClient({ url: hubB.wsUrl, webSocketImpl: CookieWebSocket, retryAttempts: 0 });
    clients.push(client);
    const statuses: string[] = [];
    client.subscribe(
      { query: `subscription ($id: ID!) { runUpdated(id: $id) { status } }`, variables: { id } },
      {
        next: (r) => statuses.push((r.data as any)?.runUpdated?.status ?? JSON.stringify(r.errors)),
        error: () => {},
        complete: () => {},
      },
    );
    for (let i = 0; i < 100 && statuses.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(statuses).toEqual(['QUEUED']);
    ok(await ann.client.request(`mutation ($id: ID!) { cancelRun(id: $id) { status } }`, { id }));
    for (let i = 0; i < 100 && !statuses.includes('CANCELLED'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(statuses).toContain('CANCELLED');
  });

  it('two schedulers claim distinct runs (SKIP LOCKED), one per free slot each', async () => {
    const { LocalExecutor } = await import('../src/executors/local.ts');
    const { createRunScheduler } = await import('../src/services/runs/run-scheduler-setup.ts');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push(
        ok(
          await ann.client.request(START_RUN, {
            input: { datasetVersionId: versionId, name: `q${i}`, config: tinyConfig() },
          }),
        ).startRun.id,
      );
    }
    // Both schedulers start at the same moment against the same queue.
    const make = (hub: TestHub, host: string, logDir: string) =>
      createRunScheduler(
        hub.hub.services,
        {
          host,
          pollMs: 100,
          logDir,
          executor: new LocalExecutor({
            logDir,
            slots: [{ id: 'cpu', gpu: null }],
            command: ['sh', '-c', 'sleep 60', 'fake-trainer'],
          }),
        },
        { hubUrl: hub.url, logger: hub.hub.logger },
      );
    const [sa, sb] = await Promise.all([
      make(hubA, 'machine-a', configs[0]!.logDir),
      make(hubB, 'machine-b', configs[1]!.logDir),
    ]);
    try {
      const claimed = async () =>
        (await Promise.all(ids.map((id) => runRow(hubA, id)))).filter((r) => r.status !== 'queued');
      for (let i = 0; i < 100 && (await claimed()).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500)); // a few more passes: nothing else may start
      const started = await claimed();
      expect(started.map((r) => r.executorHost).sort()).toEqual(['machine-a', 'machine-b']);
      expect(started.every((r) => r.attempt === 1 && r.executorHandle !== null)).toBe(true);
      // FIFO: the two oldest queued runs went first.
      expect(started.map((r) => r.id).sort()).toEqual(ids.slice(0, 2).sort());
      const queued = await Promise.all(ids.slice(2).map((id) => runRow(hubA, id)));
      expect(queued.every((r) => r.status === 'queued' && r.attempt === 0)).toBe(true);
    } finally {
      await sa?.close();
      await sb?.close();
    }
  });
});
