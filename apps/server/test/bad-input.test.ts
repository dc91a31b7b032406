import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, gql, type GqlResponse } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { signUpUser } from './helpers.ts';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub?.close());

async function post(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(hub.graphqlUrl, { method: 'POST', headers, body });
  const json = (await res.json()) as Omit<GqlResponse<unknown>, 'status' | 'headers'>;
  return { status: res.status, ...json };
}

/** After every bad request the hub must still answer a normal one. */
async function expectStillServing() {
  const health = await fetch(`${hub.url}/healthz`);
  expect(health.status).toBe(200);
  const res = await gql(hub.graphqlUrl, `{ me { id } }`);
  expect(res.errors).toBeUndefined();
  expect(res.data).toEqual({ me: null });
}

/** `{ me { teams { members { user { teams ... { __typename } } } } } }`, `depth` fields deep. */
function nested(depth: number): string {
  const path = ['me'];
  const cycle = ['teams', 'members', 'user'];
  while (path.length < depth - 1) path.push(cycle[(path.length - 1) % 3]!);
  return `{ ${path.join(' { ')} { __typename }${' }'.repeat(path.length - 1)} }`;
}

describe('bad input gets a clear error with a code, and the hub keeps serving', () => {
  it('malformed JSON → 400 BAD_REQUEST', async () => {
    const res = await post('{"query": "{ me { id } }"');
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(res.errors?.[0]?.message).toMatch(/Malformed JSON/);
    await expectStillServing();
  });

  it('unknown fields in the query → GRAPHQL_VALIDATION_FAILED naming the field', async () => {
    const res = await gql(hub.graphqlUrl, `{ me { id shoeSize } }`);
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).toMatch(/shoeSize/);
    await expectStillServing();
  });

  it('unknown fields in an input object → BAD_USER_INPUT naming the field', async () => {
    const res = await gql(hub.graphqlUrl, `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }`, {
      input: { email: 'u@example.com', password: 'long enough', name: 'U', isAdmin: true },
    });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(/isAdmin/);
    await expectStillServing();
  });

  it('a 10 MB query → 413 PAYLOAD_TOO_LARGE naming the limit', async () => {
    const query = `{ me { id } }${' '.repeat(10 * 1024 * 1024)}`;
    const res = await post(JSON.stringify({ query }));
    expect(res.status).toBe(413);
    expect(res.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(res.errors?.[0]?.message).toMatch(/limit of 1048576 bytes/);
    await expectStillServing();
  });

  it('depth 50 → QUERY_TOO_DEEP naming the limit', async () => {
    const res = await gql(hub.graphqlUrl, nested(50));
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('QUERY_TOO_DEEP');
    expect(res.errors?.[0]?.message).toBe('Query depth exceeds the limit of 15 nested fields');
    expect(res.errors?.[0]?.extensions?.limit).toBe(15);
    // A reasonable depth is fine.
    const ok = await gql(hub.graphqlUrl, nested(6));
    expect(ok.errors).toBeUndefined();
    await expectStillServing();
  });

  it('text nested thousands of levels deep is refused before parsing (no stack overflow)', async () => {
    const query = `{ me ${'{ teams '.repeat(5000)}${'}'.repeat(5000)} }`;
    const res = await post(JSON.stringify({ query }));
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
    await expectStillServing();
  });

  it('an expensive (wide) query → QUERY_TOO_COMPLEX', async () => {
    const fields = Array.from({ length: 1200 }, (_, i) => `a${i}: members { user { id name email } }`).join(' ');
    const res = await gql(hub.graphqlUrl, `{ team(slug: "x") { ${fields} } }`);
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('QUERY_TOO_COMPLEX');
    expect(res.errors?.[0]?.message).toMatch(/cost exceeds the limit of 10000/);
    await expectStillServing();
  });

  it('a simple cross-site form POST is refused by CSRF prevention', async () => {
    const res = await fetch(hub.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: 'mutation { signOut }' }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF|preflight/i);
    await expectStillServing();
  });

  it('a missing or non-string query → BAD_REQUEST', async () => {
    const res = await post(JSON.stringify({ variables: {} }));
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    const wrongType = await post(JSON.stringify({ query: 42 }));
    expect(wrongType.status).toBe(400);
    await expectStillServing();
  });

  it('a syntax error → GRAPHQL_PARSE_FAILED', async () => {
    const res = await gql(hub.graphqlUrl, `{ me { id `);
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('GRAPHQL_PARSE_FAILED');
    await expectStillServing();
  });

  it('never returns stack traces', async () => {
    const user = await signUpUser(hub, 'Stack');
    const res = await user.client.request(
      `mutation { revokeApiToken(id: "00000000-0000-0000-0000-000000000000") { id } }`,
    );
    expect(errorCode(res)).toBe('NOT_FOUND');
    expect(JSON.stringify(res.errors)).not.toMatch(/stacktrace|\.ts:\d+/);
  });

  it('unknown routes → 404 NOT_FOUND', async () => {
    const res = await fetch(`${hub.url}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe(
      'NOT_FOUND',
    );
  });
});
