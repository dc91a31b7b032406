import { modelShares, sampleJobs } from '@dapple/db';
import { createTestDatabase, errorCode, type TestDatabase } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { asc, inArray } from 'drizzle-orm';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { GENERATE, publishTinyVersion, SAMPLE_JOB } from './sampling-fixtures.ts';

/**
 * Queueing across teams on one hub's pool (1 worker, 1 running job per team), and a sampleJobUpdated
 * subscription on a second hub (same database) following a job that the first hub runs.
 */
let db: TestDatabase;
let hubA: TestHub;
let hubB: TestHub;
const users: SignedInUser[] = [];
let versionId: string;
let slowVersionId: string;
const clients: Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  hubA = await startTestHub({
    databaseUrl: db.connectionString,
    runs: { executor: false },
    sampling: { workers: 1, perTeamConcurrency: 1, maxQueuedPerTeam: 3 },
  });
  hubB = await startTestHub({ databaseUrl: db.connectionString, store: hubA.store, runs: { executor: false } });
  const owner = await signUpUser(hubA, 'Olga');
  const teamId = await createTeam(owner, 'Models', 'models');
  const fast = await publishTinyVersion(hubA, teamId, owner.id);
  // A long job that holds the worker while the others queue up (1000 timesteps, 150 steps × 64 images).
  const slow = await publishTinyVersion(hubA, teamId, owner.id, { timesteps: 1000 });
  versionId = fast.version.id;
  slowVersionId = slow.version.id;
  // Three teams, each with the models shared to it: their jobs count against their own team.
  for (const name of ['Ada', 'Bob', 'Cyd']) {
    const u = await signUpUser(hubA, name);
    const team = await createTeam(u, `${name} team`, `${name.toLowerCase()}-team`);
    for (const m of [fast, slow])
      await hubA.db
        .insert(modelShares)
        .values({ modelId: m.modelId, granteeTeamId: team, role: 'viewer', createdBy: owner.id });
    users.push(u);
  }
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await hubA?.close();
  await hubB?.close();
  await db?.drop();
});

const generate = async (u: SignedInUser, input: Record<string, unknown>) => {
  const res = await u.client.request<{ generateSamples: { id: string; queuePosition: number | null } }>(GENERATE, {
    input,
  });
  expect(res.errors).toBeUndefined();
  return res.data!.generateSamples;
};
const job = async (u: SignedInUser, id: string) =>
  (await u.client.request<{ sampleJob: { status: string; queuePosition: number | null } }>(SAMPLE_JOB, { id })).data!
    .sampleJob;

describe('fair queueing across teams', () => {
  it('three teams submitting at once alternate, FIFO within each, and queue positions say so', async () => {
    const [ada, bob, cyd] = users as [SignedInUser, SignedInUser, SignedInUser];
    const ids: Record<string, string> = {};
    ids['A1'] = (await generate(ada, { modelVersionId: slowVersionId, count: 64, steps: 150, seed: 1 })).id;
    for (const [u, tag] of [
      [ada, 'A'],
      [bob, 'B'],
      [cyd, 'C'],
    ] as const) {
      for (const n of [2, 3, 4])
        ids[`${tag}${n}`] = (await generate(u, { modelVersionId: versionId, count: 1, steps: 2, seed: n })).id;
    }
    // While A1 still runs, positions follow the round-robin order (Ada just ran, so Bob and Cyd go first).
    const expected = ['B2', 'C2', 'A2', 'B3', 'C3', 'A3', 'B4', 'C4', 'A4'];
    const positions = await Promise.all(
      expected.map(
        async (tag) => (await job(users[tag === 'A1' ? 0 : 'ABC'.indexOf(tag[0]!)]!, ids[tag]!)).queuePosition,
      ),
    );
    const a1 = await job(ada, ids['A1']);
    try {
      expect(a1.status).toBe('RUNNING'); // otherwise the positions above were taken after a shift
      expect(a1.queuePosition).toBeNull();
      expect(positions).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      // A fourth waiting job of one team is refused; nothing is stored for it.
      const refused = await ada.client.request(GENERATE, { input: { modelVersionId: versionId, count: 1, steps: 2 } });
      expect(errorCode(refused)).toBe('RATE_LIMITED');
      expect(refused.errors?.[0]?.message).toMatch(/already has 3 sample jobs waiting/);
    } finally {
      await hubA.hub.services.sampling.scheduler.idle();
    }

    await hubA.hub.services.sampling.scheduler.idle();
    const rows = await hubA.db
      .select()
      .from(sampleJobs)
      .where(inArray(sampleJobs.id, Object.values(ids)))
      .orderBy(asc(sampleJobs.startedAt));
    const tagOf = new Map(Object.entries(ids).map(([tag, id]) => [id, tag]));
    expect(rows.map((r) => tagOf.get(r.id))).toEqual(['A1', ...expected]);
    expect(await hubA.db.$count(sampleJobs)).toBe(10);
    expect(rows.every((r) => r.status === 'succeeded')).toBe(true);
    expect(new Set(rows.map((r) => r.teamId)).size).toBe(3);
  }, 300_000);
});

describe('sampleJobUpdated across hubs', () => {
  it('a subscription on hub B sees the queue, progress and result of a job hub A runs', async () => {
    const u = users[1]!;
    const id = (await generate(u, { modelVersionId: slowVersionId, count: 8, steps: 60, seed: 3 })).id;
    const cookie = u.client.cookies.header()!;
    class CookieWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { cookie } });
      }
    }
    const client = createClient({ url: hubB.wsUrl, webSocketImpl: CookieWebSocket, retryAttempts: 0 });
    clients.push(client);
    const seen: { status: string; stepsDone: number; images: number }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe(
        {
          query: `subscription ($id: ID!) { sampleJobUpdated(id: $id) { status progress { stepsDone } images { url } } }`,
          variables: { id },
        },
        {
          next: (r) => {
            if (r.errors) return reject(new Error(JSON.stringify(r.errors)));
            const j = (
              r.data as { sampleJobUpdated: { status: string; progress: { stepsDone: number }; images: unknown[] } }
            ).sampleJobUpdated;
            seen.push({ status: j.status, stepsDone: j.progress.stepsDone, images: j.images.length });
            if (j.status === 'SUCCEEDED' || j.status === 'FAILED') resolve();
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    await done;
    const last = seen.at(-1)!;
    expect(last).toEqual({ status: 'SUCCEEDED', stepsDone: 60, images: 8 });
    // Progress arrived in between (not only the first and the final state), and never went backwards.
    const running = seen.filter((s) => s.status === 'RUNNING');
    expect(running.length).toBeGreaterThan(0);
    expect(seen.map((s) => s.stepsDone)).toEqual([...seen.map((s) => s.stepsDone)].sort((a, b) => a - b));
  }, 300_000);
});

describe('hub shutdown', () => {
  it('marks the sample jobs it still held failed with a readable reason (nobody waits forever)', async () => {
    const hubC = await startTestHub({
      databaseUrl: db.connectionString,
      store: hubA.store,
      runs: { executor: false },
      sampling: { workers: 1 },
    });
    const u = await signUpUser(hubC, 'Dan');
    const team = await createTeam(u, 'Dan team', 'dan-team');
    const { version } = await publishTinyVersion(hubC, team, u.id, { timesteps: 1000 });
    const running = await generate(u, { modelVersionId: version.id, count: 64, steps: 300 });
    const queued = await generate(u, { modelVersionId: version.id, count: 1, steps: 2 });
    for (let i = 0; i < 200 && (await job(u, running.id)).status !== 'RUNNING'; i++)
      await new Promise((r) => setTimeout(r, 50));
    await hubC.close();
    const rows = await hubA.db
      .select()
      .from(sampleJobs)
      .where(inArray(sampleJobs.id, [running.id, queued.id]));
    expect(rows.map((r) => r.status)).toEqual(['failed', 'failed']);
    expect(rows.find((r) => r.id === queued.id)!.error).toMatch(/hub stopped before this job finished/);
  }, 120_000);
});
