import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, gql, gqlClient, type GqlClient, type GqlResponse } from '@dapple/testing';
import { trustedProxiesFromEnv } from '../src/config.ts';
import { loadEnv } from '../src/env.ts';
import { startTestHub, type TestHub } from './support/hub.ts';
import { signUpUser } from './helpers.ts';

const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { user { id } } }`;

describe('sign-in limits and who may mint tokens', () => {
  let hub: TestHub;
  let minter: Awaited<ReturnType<typeof signUpUser>>;
  beforeAll(async () => {
    // Only 10.9.9.9 is a trusted proxy: this test's own loopback connections are not.
    hub = await startTestHub({
      jobs: { workers: false },
      trustProxy: trustedProxiesFromEnv(loadEnv({ DAPPLE_TRUSTED_PROXIES: '10.9.9.9' })),
      auth: { signInMaxFailures: 3, signInMaxFailuresPerIp: 6 },
    });
    // Signed up before the tests below use up this address's failure budget (sign-up then waits too).
    minter = await signUpUser(hub, 'Minter');
  });
  afterAll(() => hub?.close());

  const signIn = (email: string, password: string, forwardedFor?: string) =>
    gql(
      hub.graphqlUrl,
      SIGN_IN,
      { input: { email, password } },
      {
        headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
      },
    );

  it('ignores X-Forwarded-For from an untrusted peer: rotating it does not reset the account limit', async () => {
    const victim = await signUpUser(hub, 'Victim');
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++) codes.push(errorCode(await signIn(victim.email, 'wrong-password', `203.0.113.${i}`)));
    expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED', 'RATE_LIMITED']);
    // Locked for the account, whatever the address: even the right password waits.
    const locked = await signIn(victim.email, `password-of-Victim`, '198.51.100.7');
    expect(errorCode(locked)).toBe('RATE_LIMITED');
    expect(locked.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('limits spraying one password across many accounts from one address', async () => {
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 8; i++) codes.push(errorCode(await signIn(`nobody-${i}@example.com`, 'Summer2026!')));
    // Eight different accounts, one address (which failed 3 times above): at most 6 failures count, then it waits.
    expect(codes.filter((c) => c === 'UNAUTHENTICATED').length).toBeLessThanOrEqual(6);
    expect(codes.slice(-2)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    expect(codes.every((c) => c === 'UNAUTHENTICATED' || c === 'RATE_LIMITED')).toBe(true);
  });

  it('an API token cannot mint API tokens; a session can', async () => {
    const user = minter;
    const created = await user.client.request<{ createApiToken: { secret: string } }>(
      `mutation { createApiToken(input: { name: "cli" }) { secret } }`,
    );
    expect(created.errors).toBeUndefined();
    const byToken = await gql(
      hub.graphqlUrl,
      `mutation { createApiToken(input: { name: "child" }) { secret } }`,
      {},
      {
        token: created.data!.createApiToken.secret,
      },
    );
    expect(errorCode(byToken)).toBe('FORBIDDEN');
    expect(byToken.errors?.[0]?.message).toMatch(/API tokens cannot create API tokens/);
  });

  it('reads DAPPLE_TRUSTED_PROXIES', () => {
    expect(trustedProxiesFromEnv(loadEnv({}))).toEqual(['loopback']);
    expect(trustedProxiesFromEnv(loadEnv({ DAPPLE_TRUSTED_PROXIES: 'none' }))).toBe(false);
    expect(trustedProxiesFromEnv(loadEnv({ DAPPLE_TRUSTED_PROXIES: '10.0.0.1, 172.16.0.0/12' }))).toEqual([
      '10.0.0.1',
      '172.16.0.0/12',
    ]);
  });
});

describe('open sign-up (DAPPLE_SIGNUP=open) with a taken email', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ jobs: { workers: false }, auth: { signInMaxFailuresPerIp: 3 } });
  });
  afterAll(() => hub?.close());

  const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }`;
  const signUp = (email: string) =>
    gql(hub.graphqlUrl, SIGN_UP, { input: { email, password: 'a-long-password', name: 'Probe' } });

  it('counts as a failed sign-in of the address: probing for accounts stops at the per-address limit', async () => {
    const taken = await Promise.all([1, 2, 3, 4].map((i) => signUpUser(hub, `Known ${i}`)));
    const codes: (string | undefined)[] = [];
    for (const user of taken) codes.push(errorCode(await signUp(user.email)));
    expect(codes).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT', 'RATE_LIMITED']);
    // From then on the address learns nothing, whether the email is taken or new...
    const fresh = await signUp('never-seen@example.com');
    expect(errorCode(fresh)).toBe('RATE_LIMITED');
    expect(fresh.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    // ...and signing in is limited for it too (one budget for both doors).
    const signIn = await gql(hub.graphqlUrl, SIGN_IN, {
      input: { email: taken[0]!.email, password: 'password-of-Known 1' },
    });
    expect(errorCode(signIn)).toBe('RATE_LIMITED');
  });
});

describe('sign-up by invitation (DAPPLE_SIGNUP=invite, the default)', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ jobs: { workers: false }, auth: { signUp: 'invite' } });
  });
  afterAll(() => hub?.close());

  const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id email } team { slug viewerRole } } }`;
  const POLICY = `query { signUpPolicy { mode openWithoutInvite } }`;
  const signUp = (email: string, inviteToken?: string, password = 'a-long-password') =>
    gqlClient(hub.graphqlUrl).request(SIGN_UP, { input: { email, password, name: 'Someone', inviteToken } });
  /** Everything a caller sees of a refused sign-up: the status, the body's errors, any cookie. */
  const seen = (res: GqlResponse<unknown>) => ({
    status: res.status,
    data: res.data,
    errors: res.errors,
    cookie: res.headers.getSetCookie(),
  });
  let owner: GqlClient;
  let ownerEmail: string;

  it("lets the empty hub's first account sign up (one of two at once), then closes", async () => {
    expect((await gql(hub.graphqlUrl, POLICY)).data?.signUpPolicy).toEqual({ mode: 'INVITE', openWithoutInvite: true });
    const first = gqlClient(hub.graphqlUrl);
    const second = gqlClient(hub.graphqlUrl);
    const both = await Promise.all(
      [first, second].map((c, i) =>
        c.request(SIGN_UP, { input: { email: `first-${i}@example.com`, password: 'a-long-password', name: 'First' } }),
      ),
    );
    expect(both.map(errorCode).sort()).toEqual(['FORBIDDEN', undefined]);
    const winner = both.findIndex((r) => !r.errors);
    owner = winner === 0 ? first : second;
    ownerEmail = `first-${winner}@example.com`;
    expect((await owner.request(`query { me { email } }`)).data?.me.email).toBe(ownerEmail);
    expect((await gql(hub.graphqlUrl, POLICY)).data?.signUpPolicy).toEqual({
      mode: 'INVITE',
      openWithoutInvite: false,
    });
  });

  it('answers a sign-up without an invite alike whether the email is taken or free', async () => {
    const taken = seen(await signUp(ownerEmail));
    const free = seen(await signUp('nobody-yet@example.com'));
    const unknownInvite = seen(await signUp('nobody-yet@example.com', 'not-a-real-invite-token'));
    expect(taken.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(taken.errors?.[0]?.message).toMatch(/needs an invite/);
    expect(taken.cookie).toEqual([]);
    expect(free).toEqual(taken);
    expect(unknownInvite).toEqual(taken);
  });

  it('makes the invited account and joins its team; with the invite, a taken email answers like any refusal', async () => {
    const invite = async (teamId: string, email: string) => {
      const res = await owner.request<{ inviteMember: { token: string } }>(
        `mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }`,
        { input: { teamId, email, role: 'MEMBER' } },
      );
      expect(res.errors).toBeUndefined();
      return res.data!.inviteMember.token;
    };
    const createTeam = async (slug: string) =>
      (await owner.request(`mutation { createTeam(input: { name: "${slug}", slug: "${slug}" }) { id } }`)).data!
        .createTeam.id as string;
    const labId = await createTeam('lab');
    const labToken = await invite(labId, 'Bea@Example.com');

    const refusal = seen(await signUp('nobody-yet@example.com'));
    // The invite is for Bea's address only.
    expect(seen(await signUp('someone-else@example.com', labToken))).toEqual(refusal);
    const bea = gqlClient(hub.graphqlUrl);
    const joined = await bea.request(SIGN_UP, {
      input: { email: 'bea@example.com', password: 'bea-password', name: 'Bea', inviteToken: labToken },
    });
    expect(joined.errors).toBeUndefined();
    expect(joined.data?.signUp).toMatchObject({
      user: { email: 'bea@example.com' },
      team: { slug: 'lab', viewerRole: 'MEMBER' },
    });
    expect((await bea.request(`query { me { teams { slug } } }`)).data?.me.teams).toEqual([{ slug: 'lab' }]);
    // Used once: the same link makes no second account.
    expect(seen(await signUp('bea@example.com', labToken))).toEqual(refusal);

    // Bea has an account now; an invite to another team, sent to her address, cannot make a second one, and its
    // holder hears what any refused sign-up hears...
    const studioToken = await invite(await createTeam('studio'), 'bea@example.com');
    expect(seen(await signUp('bea@example.com', studioToken, 'an-attackers-password'))).toEqual(refusal);
    // ...while Bea's account is untouched and she accepts the invite signed in.
    expect(
      errorCode(
        await gql(hub.graphqlUrl, SIGN_IN, { input: { email: 'bea@example.com', password: 'an-attackers-password' } }),
      ),
    ).toBe('UNAUTHENTICATED');
    const accepted = await bea.request(`mutation ($token: String!) { acceptInvite(token: $token) { slug } }`, {
      token: studioToken,
    });
    expect(accepted.data?.acceptInvite.slug).toBe('studio');
  });
});
