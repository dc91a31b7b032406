import { getIntrospectionQuery } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { errorCode, gql } from '@dapple/testing';
import { hubConfigFromEnv } from '../src/config.ts';
import { loadEnv } from '../src/env.ts';
import { startTestHub, type TestHub } from './support/hub.ts';

/** The payload: one request with 400 aliased introspection fields (≈ 70 KB of text). */
const introspectionBomb = `{ ${Array.from({ length: 400 }, (_, i) => `a${i}: __schema { types { name fields { name type { name } } } }`).join(' ')} }`;

describe('GraphQL cost covers introspection; the health check stays answered', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ jobs: { workers: false } });
  });
  afterAll(() => hub?.close());

  it('refuses the aliased introspection bomb before running it, and still answers one standard introspection', async () => {
    expect(introspectionBomb.length).toBeGreaterThan(20_000);
    const bomb = await gql(hub.graphqlUrl, introspectionBomb);
    expect(errorCode(bomb)).toBe('QUERY_TOO_COMPLEX');
    expect(bomb.errors?.[0]?.message).toMatch(/introspection included|__schema once/);
    expect(bomb.data).toBeUndefined();
    // Fewer aliases, each cheap enough for the cost budget: still one __schema per operation.
    const twice = await gql(
      hub.graphqlUrl,
      `{ a: __schema { queryType { name } } b: __schema { queryType { name } } }`,
    );
    expect(errorCode(twice)).toBe('QUERY_TOO_COMPLEX');
    const standard = await gql<{ __schema: { types: unknown[] } }>(hub.graphqlUrl, getIntrospectionQuery());
    expect(standard.errors).toBeUndefined();
    expect(standard.data?.__schema.types.length).toBeGreaterThan(50);
  });

  it('answers /healthz while a flood of introspection bombs keeps arriving', async () => {
    // Read by the flood's loop before it is set, so it cannot be a const declared at its assignment.
    // eslint-disable-next-line prefer-const
    let healthy: { status: number; body: unknown } | undefined;
    const flooded: string[] = [];
    const flood = async () => {
      // Each worker keeps one bomb in flight until the health check has answered.
      while (!healthy) {
        const res = await gql(hub.graphqlUrl, introspectionBomb).catch((err: Error) => ({ failed: err.message }));
        flooded.push('failed' in res ? res.failed : (errorCode(res) ?? 'none'));
      }
    };
    const workers = Array.from({ length: 8 }, flood);
    // Let the flood get going first: the check is sent while bombs are already queued on the server.
    while (flooded.length < 8) await new Promise((r) => setImmediate(r));
    const res = await fetch(`${hub.url}/healthz`);
    healthy = { status: res.status, body: await res.json() };
    const sentBefore = flooded.length;
    await Promise.all(workers);
    expect(healthy).toEqual({ status: 200, body: { status: 'ok', db: 'ok' } });
    // The flood was still running when the check answered (its workers only stop once it has).
    expect(flooded.length).toBeGreaterThanOrEqual(sentBefore);
    expect(new Set(flooded)).toEqual(new Set(['QUERY_TOO_COMPLEX']));
  });
});

describe('introspection switch and response-size cap', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ jobs: { workers: false }, limits: { introspection: false, maxResponseBytes: 2_000 } });
  });
  afterAll(() => hub?.close());

  it('refuses __schema and __type over HTTP and WebSocket when introspection is off; __typename still works', async () => {
    expect(errorCode(await gql(hub.graphqlUrl, `{ __schema { queryType { name } } }`))).toBe('INTROSPECTION_DISABLED');
    expect(errorCode(await gql(hub.graphqlUrl, `{ __type(name: "Run") { name } }`))).toBe('INTROSPECTION_DISABLED');
    const typename = await gql<{ __typename: string }>(hub.graphqlUrl, `{ __typename }`);
    expect(typename.data).toEqual({ __typename: 'Query' });

    const client = createClient({ url: hub.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    const errors = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query: `{ __schema { queryType { name } } }` },
        {
          next: () => {},
          error: resolve,
          complete: () => resolve(null),
        },
      );
    });
    await client.dispose();
    expect(JSON.stringify(errors)).toContain('INTROSPECTION_DISABLED');
  });

  it('replaces a response over the size cap with RESPONSE_TOO_LARGE', async () => {
    const big = await gql(
      hub.graphqlUrl,
      `{ ${Array.from({ length: 200 }, (_, i) => `t${i}: __typename`).join(' ')} }`,
    );
    expect(errorCode(big)).toBe('RESPONSE_TOO_LARGE');
    expect(big.errors?.[0]?.message).toMatch(/exceeds the limit of 2000 bytes/);
    expect(big.data).toBeUndefined();
  });

  it('turns introspection off by default in production, on with DAPPLE_GRAPHQL_INTROSPECTION=1', async () => {
    const base = { DATABASE_URL: 'postgres://x@localhost/db', DAPPLE_SECRET: 'x'.repeat(32) };
    const config = async (extra: Record<string, string>) =>
      (await hubConfigFromEnv(loadEnv({ ...base, ...extra }))).limits?.introspection;
    expect(await config({})).toBe(true);
    expect(await config({ NODE_ENV: 'production' })).toBe(false);
    expect(await config({ NODE_ENV: 'production', DAPPLE_GRAPHQL_INTROSPECTION: '1' })).toBe(true);
    expect(await config({ DAPPLE_GRAPHQL_INTROSPECTION: 'off' })).toBe(false);
    expect(() => loadEnv({ DAPPLE_GRAPHQL_INTROSPECTION: 'maybe' })).toThrow(/DAPPLE_GRAPHQL_INTROSPECTION/);
  });
});
