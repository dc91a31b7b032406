import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, gql } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { createTeam, signUpUser } from './helpers.ts';

const CREATE = `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret apiToken { id name prefix revokedAt } } }`;
const REVOKE = `mutation ($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }`;

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub?.close());

describe('API tokens', () => {
  it('creates a dpl_ token shown once, authenticates with it, and stops it at once when revoked', async () => {
    const ann = await signUpUser(hub, 'Ann');
    await createTeam(ann, 'Ann Lab', 'ann-lab');
    const created = await ann.client.request(CREATE, { input: { name: 'ci' } });
    expect(created.errors).toBeUndefined();
    const { secret, apiToken } = created.data!.createApiToken;
    expect(secret).toMatch(/^dpl_[A-Za-z0-9_-]{40,}$/);
    expect(apiToken).toMatchObject({ name: 'ci', revokedAt: null });
    expect(secret.startsWith(apiToken.prefix)).toBe(true);
    expect(apiToken.prefix.length).toBeLessThan(secret.length / 2);

    // The token works on its own (no cookie), for queries and mutations.
    const me = await gql(
      hub.graphqlUrl,
      `{ me { name teams { slug } apiTokens { name prefix lastUsedAt } } }`,
      undefined,
      {
        token: secret,
      },
    );
    expect(me.errors).toBeUndefined();
    expect(me.data?.me).toMatchObject({ name: 'Ann', teams: [{ slug: 'ann-lab' }] });
    expect(me.data?.me.apiTokens[0]).toMatchObject({ name: 'ci', prefix: apiToken.prefix });
    expect(me.data?.me.apiTokens[0].lastUsedAt).not.toBeNull();
    const viaToken = await gql(
      hub.graphqlUrl,
      `mutation { createTeam(input: { name: "By Token", slug: "by-token" }) { slug } }`,
      undefined,
      {
        token: secret,
      },
    );
    expect(viaToken.data?.createTeam.slug).toBe('by-token');

    // The secret is stored only as a hash.
    const stored = await hub.db.query.apiTokens.findFirst();
    expect(stored?.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(secret);

    const revoked = await ann.client.request(REVOKE, { id: apiToken.id });
    expect(revoked.errors).toBeUndefined();
    expect(revoked.data?.revokeApiToken.revokedAt).not.toBeNull();

    const after = await gql(hub.graphqlUrl, `{ me { name } }`, undefined, { token: secret });
    expect(errorCode(after)).toBe('UNAUTHENTICATED');
    expect(after.status).toBe(401);
    expect(after.errors?.[0]?.message).toMatch(/revoked/);
  });

  it("cannot revoke or list someone else's tokens", async () => {
    const owner = await signUpUser(hub, 'Owner');
    const other = await signUpUser(hub, 'Other');
    const created = await owner.client.request(CREATE, { input: { name: 'mine' } });
    const id = created.data?.createApiToken.apiToken.id;
    expect(errorCode(await other.client.request(REVOKE, { id }))).toBe('NOT_FOUND');
    expect(errorCode(await other.client.request(REVOKE, { id: 'not-a-uuid' }))).toBe('NOT_FOUND');
    const still = await gql(hub.graphqlUrl, `{ me { name } }`, undefined, {
      token: created.data?.createApiToken.secret,
    });
    expect(still.data?.me.name).toBe('Owner');
  });

  it('rejects made-up and malformed credentials with UNAUTHENTICATED', async () => {
    const fake = await gql(hub.graphqlUrl, `{ me { name } }`, undefined, { token: 'dpl_' + 'x'.repeat(43) });
    expect(errorCode(fake)).toBe('UNAUTHENTICATED');
    const malformed = await gql(hub.graphqlUrl, `{ me { name } }`, undefined, {
      headers: { authorization: 'Basic abc' },
    });
    expect(errorCode(malformed)).toBe('UNAUTHENTICATED');
    expect(malformed.errors?.[0]?.message).toMatch(/Bearer/);
  });

  it('validates the token name', async () => {
    const user = await signUpUser(hub, 'Val');
    const res = await user.client.request(CREATE, { input: { name: '   ' } });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe('name');
  });
});
