import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, gql } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { createTeam, signUpUser } from './helpers.ts';

const DAY = 86_400_000;
// The hub's clock for sessions, invites and tokens; the test moves it forward.
let offsetMs = 0;
const now = () => new Date(Date.now() + offsetMs);

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ now });
});
afterAll(() => hub?.close());

const ME = `{ me { name } }`;

describe('expiry', () => {
  it('sessions slide: used within 30 days they renew, idle for 30 days they end', async () => {
    offsetMs = 0;
    const user = await signUpUser(hub, 'Sid');
    offsetMs = 2 * DAY;
    const renewed = await user.client.request(ME);
    expect(renewed.data?.me.name).toBe('Sid');
    const cookie = renewed.headers.getSetCookie().find((c) => c.startsWith('dapple_session='));
    expect(cookie).toBeDefined();
    const expires = new Date(/Expires=([^;]+)/i.exec(cookie!)![1]!).getTime();
    expect(expires).toBeGreaterThan(Date.now() + 31 * DAY); // 2 days in + 30 days

    offsetMs = 31 * DAY; // 29 days after the renewal: still valid
    expect((await user.client.request(ME)).data?.me.name).toBe('Sid');
    offsetMs = 31 * DAY + 30 * DAY + 1000; // idle past the window
    expect((await user.client.request(ME)).data?.me).toBeNull();
  });

  it('invites expire after 7 days', async () => {
    offsetMs = 0;
    const owner = await signUpUser(hub, 'Ines');
    const teamId = await createTeam(owner, 'Expiring', 'expiring');
    const late = await signUpUser(hub, 'Late');
    const invite = await owner.client.request(
      `mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }`,
      {
        input: { teamId, email: late.email, role: 'MEMBER' },
      },
    );
    offsetMs = 8 * DAY;
    // Sessions are still fine (renewed on use), the invite is not.
    await owner.client.request(ME);
    const res = await late.client.request(`mutation ($token: String!) { acceptInvite(token: $token) { id } }`, {
      token: invite.data?.inviteMember.token,
    });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(/expired/);
  });

  it('API tokens with expiresInDays stop working after it', async () => {
    offsetMs = 0;
    const user = await signUpUser(hub, 'Tia');
    const created = await user.client.request(
      `mutation { createApiToken(input: { name: "short", expiresInDays: 1 }) { secret apiToken { expiresAt } } }`,
    );
    const secret = created.data?.createApiToken.secret as string;
    expect((await gql(hub.graphqlUrl, ME, undefined, { token: secret })).data?.me.name).toBe('Tia');
    offsetMs = 2 * DAY;
    expect(errorCode(await gql(hub.graphqlUrl, ME, undefined, { token: secret }))).toBe('UNAUTHENTICATED');
  });
});
