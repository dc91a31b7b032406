import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, gql } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { graphqlWsClient } from './ws-fixtures.ts';

const SUBSCRIPTION = `subscription ($teamId: ID!) { teamMembersChanged(teamId: $teamId) { teamId userId kind role } }`;

let hub: TestHub;
const clients: Client[] = [];
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await hub?.close();
});

/** A graphql-ws client authenticated like a browser (session cookie, maybe an Origin) or like a script (API token). */
function wsClient(auth: { cookie?: string; token?: string; headers?: Record<string, string> }): Client {
  const client = graphqlWsClient(hub.wsUrl, auth);
  clients.push(client);
  return client;
}

/** Subscribes and collects events; resolves `ready` once the server has registered the subscription. */
function collect(client: Client, teamId: string) {
  const events: unknown[] = [];
  const errors: unknown[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const dispose = client.subscribe(
    { query: SUBSCRIPTION, variables: { teamId } },
    {
      next: (r) => (r.errors ? errors.push(...r.errors) : events.push(r.data)),
      error: (e) => (errors.push(e), done()),
      complete: () => done(),
    },
  );
  return { events, errors, finished, dispose };
}

async function waitFor(check: () => boolean, what: string) {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

async function apiToken(user: SignedInUser): Promise<string> {
  const res = await user.client.request(`mutation { createApiToken(input: { name: "ws" }) { secret } }`);
  return res.data?.createApiToken.secret as string;
}

describe('graphql-ws subscriptions on /graphql', () => {
  it('delivers teamMembersChanged to a member (cookie auth) when someone joins and changes role', async () => {
    const owner = await signUpUser(hub, 'Owner');
    const teamId = await createTeam(owner, 'Live', 'live');
    const sub = collect(wsClient({ cookie: owner.client.cookies.header() }), teamId);
    await waitFor(() => hub.hub.services.teamEvents.listenerCount(`team:${teamId}:members`) === 1, 'the subscription');

    const joiner = await signUpUser(hub, 'Joiner');
    await addMember(owner, teamId, joiner, 'VIEWER');
    await owner.client.request(`mutation ($input: SetMemberRoleInput!) { setMemberRole(input: $input) { role } }`, {
      input: { teamId, userId: joiner.id, role: 'MEMBER' },
    });
    await waitFor(() => sub.events.length === 2, 'two events');
    expect(sub.events).toEqual([
      { teamMembersChanged: { teamId, userId: joiner.id, kind: 'JOINED', role: 'VIEWER' } },
      { teamMembersChanged: { teamId, userId: joiner.id, kind: 'ROLE_CHANGED', role: 'MEMBER' } },
    ]);
    sub.dispose();
    await waitFor(() => hub.hub.services.teamEvents.listenerCount(`team:${teamId}:members`) === 0, 'the unsubscribe');
  });

  it('authenticates with an API token in connectionParams', async () => {
    const owner = await signUpUser(hub, 'Tok');
    const teamId = await createTeam(owner, 'Tok Team', 'tok-team');
    const sub = collect(wsClient({ token: await apiToken(owner) }), teamId);
    await waitFor(() => hub.hub.services.teamEvents.listenerCount(`team:${teamId}:members`) === 1, 'the subscription');
    const other = await signUpUser(hub, 'Other');
    await addMember(owner, teamId, other, 'MEMBER');
    await waitFor(() => sub.events.length === 1, 'one event');
    expect(sub.errors).toEqual([]);
    sub.dispose();
  });

  it("ends a member's stream once they are removed from the team", async () => {
    const owner = await signUpUser(hub, 'Boss');
    const teamId = await createTeam(owner, 'Leaving', 'leaving');
    const leaver = await signUpUser(hub, 'Leaver');
    await addMember(owner, teamId, leaver, 'MEMBER');
    const sub = collect(wsClient({ cookie: leaver.client.cookies.header() }), teamId);
    await waitFor(() => hub.hub.services.teamEvents.listenerCount(`team:${teamId}:members`) === 1, 'the subscription');
    await owner.client.request(`mutation ($input: RemoveMemberInput!) { removeMember(input: $input) }`, {
      input: { teamId, userId: leaver.id },
    });
    await sub.finished;
    expect(sub.events).toEqual([{ teamMembersChanged: { teamId, userId: leaver.id, kind: 'REMOVED', role: null } }]);
    await waitFor(() => hub.hub.services.teamEvents.listenerCount(`team:${teamId}:members`) === 0, 'the stream to end');
  });

  it('refuses non-members (NOT_FOUND, as for no team) and anonymous sockets (UNAUTHENTICATED)', async () => {
    const owner = await signUpUser(hub, 'Private');
    const teamId = await createTeam(owner, 'Private', 'private-team');
    const outsider = await signUpUser(hub, 'Outsider');

    const forbidden = collect(wsClient({ cookie: outsider.client.cookies.header() }), teamId);
    await forbidden.finished;
    expect(JSON.stringify(forbidden.errors)).toContain('NOT_FOUND');
    expect(forbidden.events).toEqual([]);

    const anonymous = collect(wsClient({}), teamId);
    await anonymous.finished;
    expect(JSON.stringify(anonymous.errors)).toContain('UNAUTHENTICATED');
  });

  it('ignores the session cookie of a page on another origin (cross-site WebSocket hijacking)', async () => {
    const owner = await signUpUser(hub, 'Origin');
    const teamId = await createTeam(owner, 'Origin Team', 'origin-team');
    const cookie = owner.client.cookies.header();

    const evil = collect(wsClient({ cookie, headers: { origin: 'https://evil.example' } }), teamId);
    await evil.finished;
    expect(JSON.stringify(evil.errors)).toContain('UNAUTHENTICATED');

    // The web app's proxy forwards its own host; a page served from there is trusted.
    const proxied = collect(
      wsClient({ cookie, headers: { origin: 'http://127.0.0.1:3999', 'x-forwarded-host': '127.0.0.1:3999' } }),
      teamId,
    );
    await waitFor(() => hub.hub.services.teamEvents.listenerCount(`team:${teamId}:members`) === 1, 'the subscription');
    expect(proxied.errors).toEqual([]);
    proxied.dispose();
  });

  it('applies the depth limit to subscriptions too', async () => {
    const owner = await signUpUser(hub, 'Deep');
    const client = wsClient({ cookie: owner.client.cookies.header() });
    const errors: unknown[] = [];
    await new Promise<void>((resolve) => {
      client.subscribe(
        { query: `subscription { teamMembersChanged(teamId: "x") { ${'a { '.repeat(20)}b${' }'.repeat(20)} } }` },
        { next: () => {}, error: (e) => (errors.push(e), resolve()), complete: resolve },
      );
    });
    expect(JSON.stringify(errors)).toMatch(/QUERY_TOO_DEEP|depth/);
  });

  it('closes the socket when the API token is invalid', async () => {
    const client = wsClient({ token: 'dpl_' + 'y'.repeat(43) });
    const errors: unknown[] = [];
    await new Promise<void>((resolve) => {
      client.subscribe(
        { query: SUBSCRIPTION, variables: { teamId: '00000000-0000-0000-0000-000000000000' } },
        {
          next: () => {},
          error: (e) => (errors.push(e), resolve()),
          complete: resolve,
        },
      );
    });
    expect(String((errors[0] as { code?: number }).code)).toBe('4403');
  });

  it('a READ API token runs queries and subscriptions, and no mutation (HTTP or WebSocket)', async () => {
    const owner = await signUpUser(hub, 'Scoped');
    const teamId = await createTeam(owner, 'Scoped', 'scoped');
    const made = await owner.client.request(
      `mutation { createApiToken(input: { name: "dashboards", scope: READ }) { secret apiToken { scope } } }`,
    );
    expect(made.errors).toBeUndefined();
    expect(made.data?.createApiToken.apiToken.scope).toBe('READ');
    const token = made.data?.createApiToken.secret as string;
    const bad = await owner.client.request(
      `mutation ($s: ApiTokenScope) { createApiToken(input: { name: "x", scope: $s }) { secret } }`,
      {
        s: 'ADMIN',
      },
    );
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');

    const read = await gql(hub.graphqlUrl, `{ me { name apiTokens { scope } } }`, undefined, { token });
    expect(read.errors).toBeUndefined();
    expect(read.data?.me.name).toBe('Scoped');
    const write = await gql(
      hub.graphqlUrl,
      `mutation { createTeam(input: { name: "No", slug: "no-scope" }) { id } }`,
      undefined,
      {
        token,
      },
    );
    expect(write.status).toBe(403);
    expect(errorCode(write)).toBe('FORBIDDEN');
    expect(write.errors?.[0]?.extensions?.field).toBe('scope');
    expect(write.errors?.[0]?.message).toMatch(/read-only \(scope READ\)/);

    // Over the WebSocket: the subscription streams, a mutation is refused the same way.
    const client = wsClient({ token });
    const sub = collect(client, teamId);
    await waitFor(() => hub.hub.services.teamEvents.listenerCount(`team:${teamId}:members`) === 1, 'the subscription');
    const wsWrite = await new Promise<{
      errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
    }>((resolve, reject) => {
      let result: { errors?: readonly { message: string; extensions?: Record<string, unknown> }[] } = {};
      client.subscribe(
        { query: `mutation { createTeam(input: { name: "No", slug: "no-ws" }) { id } }` },
        { next: (r) => (result = r as typeof result), error: reject, complete: () => resolve(result) },
      );
    });
    expect(wsWrite.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(wsWrite.errors?.[0]?.extensions?.field).toBe('scope');
    const joiner = await signUpUser(hub, 'Joiner Scoped');
    await addMember(owner, teamId, joiner, 'VIEWER');
    await waitFor(() => sub.events.length >= 1, 'the membership event');
    expect(sub.errors).toEqual([]);
    const teams = await gql(hub.graphqlUrl, `{ me { teams { slug } } }`, undefined, { token });
    expect(teams.data?.me.teams.map((t: { slug: string }) => t.slug)).toEqual(['scoped']);
    sub.dispose();
  });
});
