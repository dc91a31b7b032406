import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub } from '@dapple/server';
import { DiskStore } from '@dapple/storage';
import { errorCode, freePort, gql } from '@dapple/testing';
import { startTestHub, TEST_SECRET, type TestHub } from './support/hub.ts';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub?.close());

describe('HTTP surface', () => {
  it('GET /healthz checks the database', async () => {
    const res = await fetch(`${hub.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', db: 'ok' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('echoes a sane incoming x-request-id', async () => {
    const res = await fetch(`${hub.url}/healthz`, { headers: { 'x-request-id': 'trace-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-123');
  });

  it('serves DiskStore signed URLs under /objects/ and refuses tampered ones', async () => {
    const store = hub.store as DiskStore;
    await store.put('datasets/d1/hello.txt', Readable.from([Buffer.from('hello hub')]), {
      size: 9,
      contentType: 'text/plain',
    });
    const signed = await store.presignGet('datasets/d1/hello.txt');
    expect(signed.url.startsWith(`${hub.url}/objects/`)).toBe(true);
    const ok = await fetch(signed.url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('hello hub');
    const tampered = await fetch(signed.url.replace('hello.txt', 'other.txt'));
    expect(tampered.status).toBeGreaterThanOrEqual(400);
    expect(tampered.status).toBeLessThan(500);

    const put = await store.presignPut('datasets/d1/upload.bin', { size: 3 });
    const up = await fetch(put.url, { method: 'PUT', headers: put.headers, body: new Uint8Array([1, 2, 3]) });
    expect(up.status).toBeLessThan(300);
    expect((await store.stat('datasets/d1/upload.bin'))?.size).toBe(3);
  });

  it('reports 503 from /healthz when the database is unreachable, and closes cleanly', async () => {
    const port = await freePort();
    const deadDb = `postgres://nobody:nothing@127.0.0.1:${await freePort()}/none`;
    const store = new DiskStore({
      root: '/tmp/dapple-unused-store',
      publicBaseUrl: `http://127.0.0.1:${port}`,
      signingSecret: TEST_SECRET,
    });
    const broken = await createHub({ databaseUrl: deadDb, store, port, logLevel: 'silent' });
    try {
      const res = await fetch(`${broken.url}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'error', db: 'unreachable' });

      // A database it cannot reach is named (503 DATABASE_UNAVAILABLE, docs/operations.md), without driver errors or stacks.
      const inResolver = await gql(
        broken.graphqlUrl,
        `mutation { signUp(input: { email: "m@example.com", password: "password-m", name: "M" }) { user { id } } }`,
      );
      const inContext = await gql(broken.graphqlUrl, `{ me { id } }`, undefined, {
        headers: { cookie: 'dapple_session=abc' },
      });
      for (const failed of [inResolver, inContext]) {
        expect(failed.status).toBe(503);
        expect(errorCode(failed)).toBe('DATABASE_UNAVAILABLE');
        expect(failed.errors?.[0]?.message).toMatch(/^The database is unreachable right now/);
        expect(JSON.stringify(failed.errors)).not.toMatch(/ECONNREFUSED|stack|node_modules/);
      }
      // And the hub still answers.
      expect((await fetch(`${broken.url}/healthz`)).status).toBe(503);
    } finally {
      await broken.close();
    }
  });
});

describe('start-up errors', () => {
  it('says clearly when the port is taken, and leaves the other hub serving', async () => {
    const port = Number(new URL(hub.url).port);
    const store = new DiskStore({
      root: '/tmp/dapple-unused-store',
      publicBaseUrl: hub.url,
      signingSecret: TEST_SECRET,
    });
    await expect(
      createHub({ databaseUrl: 'postgres://x:y@127.0.0.1:1/none', store, port, logLevel: 'silent' }),
    ).rejects.toThrow(`Port ${port} on 127.0.0.1 is already in use`);
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
  });
});
