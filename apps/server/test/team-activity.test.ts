import { datasetVersions } from '@dapple/db';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { TEAM_ACTIVITY_CHANNEL } from '../src/services/team-activity/team-activity.ts';
import { ok, readyDatasetVersion, START_RUN, tinyConfig } from './runs-fixtures.ts';
import { graphqlWsClient } from './ws-fixtures.ts';

/**
 * teamActivity over real graphql-ws: two hubs on one database (no executor, so runs stay where the API
 * puts them). Changes made through hub A reach a subscriber on hub B (LISTEN/NOTIFY): runs through
 * RunSignals, datasets through the database triggers.
 */
const SUBSCRIPTION = `subscription ($teamId: ID!, $kinds: [TeamActivityKind!]) { teamActivity(teamId: $teamId, kinds: $kinds) { teamId kind id } }`;
type Event = { teamActivity: { teamId: string; kind: 'RUN' | 'DATASET'; id: string } };

let db: TestDatabase;
let hubA: TestHub;
let hubB: TestHub;
let ann: SignedInUser;
let vic: SignedInUser;
let eve: SignedInUser;
let teamId: string;
let versionId: string;
const clients: Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  hubA = await startTestHub({ databaseUrl: db.connectionString, runs: { executor: false } });
  hubB = await startTestHub({ databaseUrl: db.connectionString, store: hubA.store, runs: { executor: false } });
  ann = await signUpUser(hubA, 'Ann');
  vic = await signUpUser(hubA, 'Vic');
  eve = await signUpUser(hubA, 'Eve');
  teamId = await createTeam(ann, 'Lab', 'lab');
  await addMember(ann, teamId, vic, 'VIEWER');
  ({ versionId } = await readyDatasetVersion(hubA, teamId, { n: 8 }));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await hubA?.close();
  await hubB?.close();
  await db?.drop();
});

function wsClient(hub: TestHub, user: SignedInUser): Client {
  const client = graphqlWsClient(hub.wsUrl, { cookie: user.client.cookies.header() });
  clients.push(client);
  return client;
}

function collect(client: Client, variables: Record<string, unknown>) {
  const events: Event['teamActivity'][] = [];
  const errors: { message: string; extensions?: { code?: string } }[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const dispose = client.subscribe<Event>(
    { query: SUBSCRIPTION, variables },
    {
      next: (r) => (r.errors ? errors.push(...(r.errors as typeof errors)) : events.push(r.data!.teamActivity)),
      error: (e) => (errors.push(e as (typeof errors)[number]), done()),
      complete: () => done(),
    },
  );
  return { events, errors, finished, dispose };
}

async function waitFor(check: () => boolean, what: string) {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('teamActivity subscription', () => {
  it('tells a member on another hub when a run is started, changes status, and when a dataset is created and deleted', async () => {
    const sub = collect(wsClient(hubB, vic), { teamId });
    await waitFor(() => hubB.hub.services.teamActivity.subscriberCount === 1, 'the subscription on hub B');

    const runId = ok(
      await ann.client.request(START_RUN, {
        input: { datasetVersionId: versionId, name: 'live', config: tinyConfig() },
      }),
    ).startRun.id as string;
    await waitFor(() => sub.events.some((e) => e.kind === 'RUN' && e.id === runId), 'the started run');
    const afterStart = sub.events.length;
    ok(await ann.client.request(`mutation ($id: ID!) { cancelRun(id: $id) { status } }`, { id: runId }));
    await waitFor(
      () => sub.events.slice(afterStart).some((e) => e.kind === 'RUN' && e.id === runId),
      'the cancelled run',
    );

    const datasetId = ok(
      await ann.client.request(`mutation ($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`, {
        input: { teamId, name: 'fresh', resolution: 8, channels: 1 },
      }),
    ).createDataset.id as string;
    await waitFor(() => sub.events.some((e) => e.kind === 'DATASET' && e.id === datasetId), 'the created dataset');
    const afterCreate = sub.events.length;
    ok(await ann.client.request(`mutation ($id: ID!) { deleteDataset(id: $id) }`, { id: datasetId }));
    await waitFor(
      () => sub.events.slice(afterCreate).some((e) => e.kind === 'DATASET' && e.id === datasetId),
      'the deleted dataset',
    );

    expect(sub.errors).toEqual([]);
    expect(sub.events.every((e) => e.teamId === teamId)).toBe(true);
    sub.dispose();
    await waitFor(() => hubB.hub.services.teamActivity.subscriberCount === 0, 'the unsubscribe');
  });

  it('filters by kind', async () => {
    const runsOnly = collect(wsClient(hubA, ann), { teamId, kinds: ['RUN'] });
    const datasetsOnly = collect(wsClient(hubA, ann), { teamId, kinds: ['DATASET'] });
    await waitFor(() => hubA.hub.services.teamActivity.subscriberCount === 2, 'both subscriptions');
    const runId = ok(
      await ann.client.request(START_RUN, {
        input: { datasetVersionId: versionId, name: 'kinds', config: tinyConfig() },
      }),
    ).startRun.id as string;
    const { datasetId } = await readyDatasetVersion(hubA, teamId, { n: 4 });
    await waitFor(
      () => runsOnly.events.some((e) => e.id === runId) && datasetsOnly.events.some((e) => e.id === datasetId),
      'both events',
    );
    expect(runsOnly.events.every((e) => e.kind === 'RUN')).toBe(true);
    expect(datasetsOnly.events.every((e) => e.kind === 'DATASET')).toBe(true);
    runsOnly.dispose();
    datasetsOnly.dispose();
  });

  it('the database NOTIFYs a dataset version changing status, not its other updates (the prepare job writes the table directly)', async () => {
    const { datasetId, versionId: vId } = await readyDatasetVersion(hubA, teamId, { n: 4 });
    const listener = new pg.Client({ connectionString: db.connectionString });
    await listener.connect();
    try {
      const payloads: string[] = [];
      listener.on('notification', (msg) => payloads.push(msg.payload ?? ''));
      await listener.query(`LISTEN ${TEAM_ACTIVITY_CHANNEL}`);
      await hubA.db.update(datasetVersions).set({ error: 'same status' }).where(eq(datasetVersions.id, vId));
      await hubA.db
        .update(datasetVersions)
        .set({ status: 'failed', error: 'gone bad' })
        .where(eq(datasetVersions.id, vId));
      // Notifications arrive in commit order: once the sentinel is here, everything before it is too.
      await listener.query(`SELECT pg_notify('${TEAM_ACTIVITY_CHANNEL}', 'sentinel')`);
      await waitFor(() => payloads.includes('sentinel'), 'the sentinel');
      expect(payloads.slice(0, -1).map((p) => JSON.parse(p))).toEqual([{ kind: 'dataset', teamId, id: datasetId }]);
    } finally {
      await listener.end();
    }
  });

  it("refuses a non-member (NOT_FOUND, as for no team) and sends them nothing of the team's activity", async () => {
    const sub = collect(wsClient(hubA, eve), { teamId });
    await sub.finished;
    expect(sub.errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(sub.events).toEqual([]);
    expect(hubA.hub.services.teamActivity.subscriberCount).toBe(0);
  });

  it("ends a member's stream once they are removed from the team", async () => {
    const sub = collect(wsClient(hubA, vic), { teamId });
    await waitFor(() => hubA.hub.services.teamActivity.subscriberCount === 1, 'the subscription');
    ok(
      await ann.client.request(`mutation ($input: RemoveMemberInput!) { removeMember(input: $input) }`, {
        input: { teamId, userId: vic.id },
      }),
    );
    // The next change of the team ends the stream instead of reaching the former member.
    const runId = ok(
      await ann.client.request(START_RUN, {
        input: { datasetVersionId: versionId, name: 'after', config: tinyConfig() },
      }),
    ).startRun.id as string;
    await sub.finished;
    expect(sub.events.map((e) => e.id)).not.toContain(runId);
    await waitFor(() => hubA.hub.services.teamActivity.subscriberCount === 0, 'the stream to end');
  });
});
