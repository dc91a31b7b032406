import { and, eq } from 'drizzle-orm';
import { evaluations, memberships, sampleJobs } from '@dapple/db';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { ok } from './runs-fixtures.ts';
import { publishTinyVersion } from './sampling-fixtures.ts';
import { graphqlWsClient } from './ws-fixtures.ts';

/**
 * Every subscription's stream ends once its viewer loses access — a member removed, an API token revoked, a
 * sign-out, a share link revoked — and a periodic re-check ends it even when no change was announced.
 */
const STREAMS = {
  runUpdated: { query: `subscription ($id: ID!) { runUpdated(id: $id) { id } }`, initial: true },
  runMetrics: { query: `subscription ($id: ID!) { runMetrics(id: $id, keys: ["loss"]) { runId } }`, initial: true },
  sampleJobUpdated: {
    query: `subscription ($id: ID!, $shareToken: String) { sampleJobUpdated(id: $id, shareToken: $shareToken) { id } }`,
    initial: true,
  },
  evaluationUpdated: { query: `subscription ($id: ID!) { evaluationUpdated(id: $id) { id } }`, initial: true },
  teamActivity: { query: `subscription ($teamId: ID!) { teamActivity(teamId: $teamId) { id } }`, initial: false },
  teamMembersChanged: {
    query: `subscription ($teamId: ID!) { teamMembersChanged(teamId: $teamId) { userId kind } }`,
    initial: false,
  },
} as const;
type StreamName = keyof typeof STREAMS;

interface Stream {
  events: unknown[];
  errors: { extensions?: { code?: string } }[];
  first: Promise<void>;
  ended: Promise<void>;
  isEnded: () => boolean;
}

const clients: Client[] = [];
function wsClient(hub: TestHub, auth: { cookie?: string; token?: string }): Client {
  const client = graphqlWsClient(hub.wsUrl, auth);
  clients.push(client);
  return client;
}

function open(client: Client, name: StreamName, variables: Record<string, unknown>): Stream {
  const events: unknown[] = [];
  const errors: Stream['errors'] = [];
  let firstSeen!: () => void;
  let end!: () => void;
  let ended = false;
  const first = new Promise<void>((resolve) => (firstSeen = resolve));
  const endedP = new Promise<void>((resolve) => (end = resolve));
  const finish = () => ((ended = true), end(), firstSeen());
  client.subscribe(
    { query: STREAMS[name].query, variables },
    {
      next: (r) => {
        if (r.errors) errors.push(...(r.errors as unknown as Stream['errors']));
        else events.push(r.data);
        firstSeen();
      },
      error: (e) => (errors.push(...(Array.isArray(e) ? e : [{ extensions: { code: String(e) } }])), finish()),
      complete: finish,
    },
  );
  return { events, errors, first, ended: endedP, isEnded: () => ended };
}

async function waitFor(check: () => boolean, what: string) {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

let hub: TestHub;
let owner: SignedInUser;
let teamId: string;
let runId: string;
let versionId: string;
let modelId: string;

async function sampleJobFor(userId: string | null, shareLinkId: string | null = null): Promise<string> {
  const [job] = await hub.db
    .insert(sampleJobs)
    .values({
      modelVersionId: versionId,
      teamId,
      requestedBy: userId,
      shareLinkId,
      params: { count: 1 },
      status: 'succeeded',
    })
    .returning();
  return job!.id;
}

async function evaluationFor(): Promise<string> {
  const [row] = await hub.db
    .insert(evaluations)
    .values({ modelVersionId: versionId, teamId, numSamples: 8, extractor: 'pixels', status: 'succeeded' })
    .returning();
  return row!.id;
}

/** Opens all six subscriptions as one viewer and waits until each is live on the hub. */
async function openAll(client: Client, userId: string): Promise<Record<StreamName, Stream>> {
  const activityBefore = hub.hub.services.teamActivity.subscriberCount;
  const membersBefore = hub.hub.services.teamEvents.listenerCount(`team:${teamId}:members`);
  const streams = {
    runUpdated: open(client, 'runUpdated', { id: runId }),
    runMetrics: open(client, 'runMetrics', { id: runId }),
    sampleJobUpdated: open(client, 'sampleJobUpdated', { id: await sampleJobFor(userId) }),
    evaluationUpdated: open(client, 'evaluationUpdated', { id: await evaluationFor() }),
    teamActivity: open(client, 'teamActivity', { teamId }),
    teamMembersChanged: open(client, 'teamMembersChanged', { teamId }),
  };
  for (const [name, s] of Object.entries(streams)) if (STREAMS[name as StreamName].initial) await s.first;
  await waitFor(() => hub.hub.services.teamActivity.subscriberCount > activityBefore, 'teamActivity to be live');
  await waitFor(
    () => hub.hub.services.teamEvents.listenerCount(`team:${teamId}:members`) > membersBefore,
    'teamMembersChanged to be live',
  );
  for (const [name, s] of Object.entries(streams)) expect(s.isEnded(), `${name} still open`).toBe(false);
  return streams;
}

async function expectAllEnded(streams: Record<StreamName, Stream>, codes: string[]) {
  for (const [name, s] of Object.entries(streams)) {
    await s.ended;
    // teamMembersChanged may end cleanly right after delivering the REMOVED event of its own viewer.
    if (name === 'teamMembersChanged' && s.errors.length === 0) continue;
    expect(
      s.errors.map((e) => e.extensions?.code),
      name,
    ).toEqual([expect.toSatisfy((c: string) => codes.includes(c))]);
  }
}

beforeAll(async () => {
  hub = await startTestHub({ jobs: { workers: false }, sampling: { workers: 1 } });
  owner = await signUpUser(hub, 'Owner');
  teamId = await createTeam(owner, 'Streams', 'streams');
  const published = await publishTinyVersion(hub, teamId, owner.id);
  versionId = published.version.id;
  modelId = published.modelId;
  runId = published.version.runId!;
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await hub?.close();
});

describe('live streams re-check access', () => {
  it('a member removed from the team: every one of their streams ends with NOT_FOUND', async () => {
    const member = await signUpUser(hub, 'Removed');
    await addMember(owner, teamId, member, 'MEMBER');
    const streams = await openAll(wsClient(hub, { cookie: member.client.cookies.header() }), member.id);
    // An owner's streams are not touched by it.
    const ownersRun = open(wsClient(hub, { cookie: owner.client.cookies.header() }), 'runUpdated', { id: runId });
    await ownersRun.first;
    ok(
      await owner.client.request(`mutation ($input: RemoveMemberInput!) { removeMember(input: $input) }`, {
        input: { teamId, userId: member.id },
      }),
    );
    await expectAllEnded(streams, ['NOT_FOUND']);
    expect(ownersRun.isEnded()).toBe(false);
  });

  it('an API token revoked mid-stream: every stream opened with it ends with UNAUTHENTICATED', async () => {
    const member = await signUpUser(hub, 'Tokened');
    await addMember(owner, teamId, member, 'MEMBER');
    const created = ok(
      await member.client.request<{ createApiToken: { secret: string; apiToken: { id: string } } }>(
        `mutation { createApiToken(input: { name: "live" }) { secret apiToken { id } } }`,
      ),
    ).createApiToken;
    const streams = await openAll(wsClient(hub, { token: created.secret }), member.id);
    ok(
      await member.client.request(`mutation ($id: ID!) { revokeApiToken(id: $id) { id } }`, {
        id: created.apiToken.id,
      }),
    );
    await expectAllEnded(streams, ['UNAUTHENTICATED']);
  });

  it('sign-out ends the streams of that session', async () => {
    const member = await signUpUser(hub, 'Leaver');
    await addMember(owner, teamId, member, 'VIEWER');
    const streams = await openAll(wsClient(hub, { cookie: member.client.cookies.header() }), member.id);
    ok(await member.client.request(`mutation { signOut }`));
    await expectAllEnded(streams, ['UNAUTHENTICATED']);
  });

  it('a share link revoked mid-stream ends the sample job stream opened with it', async () => {
    const created = ok(
      await owner.client.request<{ createShareLink: { token: string; link: { id: string } } }>(
        `mutation ($m: ID!) { createShareLink(modelId: $m, expiresInHours: 1) { token link { id } } }`,
        { m: modelId },
      ),
    ).createShareLink;
    const jobId = await sampleJobFor(null, created.link.id);
    const stream = open(wsClient(hub, {}), 'sampleJobUpdated', { id: jobId, shareToken: created.token });
    await stream.first;
    expect(stream.errors).toEqual([]);
    ok(await owner.client.request(`mutation ($id: ID!) { revokeShareLink(id: $id) { id } }`, { id: created.link.id }));
    await stream.ended;
    expect(stream.errors.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });
});

describe('the periodic re-check', () => {
  let quick: TestHub;
  beforeAll(async () => {
    quick = await startTestHub({
      databaseUrl: (hub.hub.pool.options as { connectionString: string }).connectionString,
      store: hub.store,
      jobs: { workers: false },
      sampling: { workers: 1 },
      subscriptions: { recheckIntervalMs: 200 },
    });
  });
  afterAll(() => quick?.close());

  it('ends a stream whose access went away without any announcement', async () => {
    const member = await signUpUser(hub, 'Silent');
    await addMember(owner, teamId, member, 'MEMBER');
    const stream = open(wsClient(quick, { cookie: member.client.cookies.header() }), 'runUpdated', { id: runId });
    await stream.first;
    // Straight in the database: no AccessEvents message, only the periodic re-check can notice.
    await quick.db.delete(memberships).where(and(eq(memberships.teamId, teamId), eq(memberships.userId, member.id)));
    await stream.ended;
    expect(stream.errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });
});
