import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadEnv } from '../src/env.ts';
import { webhookDeliveries } from '@dapple/db';
import { startTestHub, TEST_SECRET, type TestHub } from './support/hub.ts';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryIdFor, isPrivateAddress, signPayload } from '../src/services/webhooks/index.ts';
import { createTeam, signUpUser } from './helpers.ts';
import { ok } from './runs-fixtures.ts';

describe('webhook signing and target checks', () => {
  it('signs t=<ts>,v1=<hex HMAC-SHA256 over "<ts>.<body>">', () => {
    const body = '{"event":"model.published"}';
    const expected = createHmac('sha256', 'whsec_x').update(`1700000000.${body}`).digest('hex');
    expect(signPayload('whsec_x', body, 1700000000)).toBe(`t=1700000000,v1=${expected}`);
  });

  it('derives the same delivery id for the same event everywhere, a different one per webhook', () => {
    expect(deliveryIdFor('run_event:7:a')).toBe(deliveryIdFor('run_event:7:a'));
    expect(deliveryIdFor('run_event:7:a')).not.toBe(deliveryIdFor('run_event:7:b'));
    expect(deliveryIdFor('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('classifies private, loopback and link-local addresses', () => {
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      '::ffff:127.0.0.1',
      'fd00:ec2::254',
      '224.0.0.1',
      '198.18.0.1',
    ]) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
    for (const ip of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '2001:4860:4860::8888'])
      expect(isPrivateAddress(ip), ip).toBe(false);
  });
});

/** A local receiver that records what reaches it and answers with `reply`. */
async function receiver(host: string, reply: (req: IncomingMessage, res: ServerResponse) => void) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    reply(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return { hits, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function deliverOnce(hub: TestHub, url: string) {
  const admin = await signUpUser(hub, 'Pia');
  const teamId = await createTeam(admin, 'Strict', `strict-${randomUUID().slice(0, 8)}`);
  const created = ok(
    await admin.client.request<{ createWebhook: any }>(
      `mutation ($t: ID!, $u: String!) { createWebhook(teamId: $t, url: $u, events: [MODEL_PUBLISHED]) { webhook { id } } }`,
      { t: teamId, u: url },
    ),
  ).createWebhook;
  const deliveryId = randomUUID();
  const payload = {
    webhookId: created.webhook.id,
    deliveryId,
    event: 'model.published' as const,
    occurredAt: new Date().toISOString(),
    data: {},
  };
  const outcome = await hub.hub.services.webhooks.deliver(payload, 1, true, 5).then(
    () => null,
    (err: Error) => err.message,
  );
  const [row] = await hub.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.deliveryId, deliveryId));
  return { outcome, row: row! };
}

describe('webhook egress policy', () => {
  let strict: TestHub;
  let onlyOne: TestHub;
  beforeAll(async () => {
    // The default: no allowPrivateTargets.
    strict = await startTestHub({ webhooks: { secret: TEST_SECRET }, jobs: { workers: false }, logLevel: 'error' });
    onlyOne = await startTestHub({
      webhooks: { secret: TEST_SECRET, allowPrivateTargets: ['127.0.0.1'] },
      jobs: { workers: false },
      logLevel: 'error',
    });
  });
  afterAll(async () => {
    await strict?.close();
    await onlyOne?.close();
  });

  it('refuses a loopback receiver by default, by name after DNS resolution, and never shows its reply', async () => {
    const secret = await receiver('127.0.0.1', (_req, res) => res.end('internal-secret-42'));
    try {
      for (const url of [`http://127.0.0.1:${secret.port}/hook`, `http://localhost:${secret.port}/hook`]) {
        const { outcome, row } = await deliverOnce(strict, url);
        expect(outcome).toMatch(/resolves to the private address (127\.0\.0\.1|::1)/);
        expect(row).toMatchObject({ status: 'failed', statusCode: null, responseSnippet: null });
        expect(row.error).toContain('DAPPLE_WEBHOOK_ALLOW_PRIVATE=1');
      }
      expect(secret.hits).toEqual([]);
    } finally {
      await secret.close();
    }
  });

  it('checks every redirect: an allowed receiver cannot bounce the delivery to another private address', async () => {
    const inner = await receiver('127.0.0.2', (_req, res) => res.end('metadata-token'));
    const bouncer = await receiver('127.0.0.1', (_req, res) => {
      res.writeHead(307, { location: `http://127.0.0.2:${inner.port}/latest/meta-data` });
      res.end();
    });
    try {
      const { outcome, row } = await deliverOnce(onlyOne, `http://127.0.0.1:${bouncer.port}/hook`);
      expect(bouncer.hits).toEqual(['POST /hook']);
      expect(inner.hits).toEqual([]);
      expect(outcome).toMatch(/127\.0\.0\.2/);
      expect(JSON.stringify(row)).not.toContain('metadata-token');
    } finally {
      await inner.close();
      await bouncer.close();
    }
  });

  it('stores only a short, sanitised excerpt of the reply (NUL bytes and all)', async () => {
    const noisy = await receiver('127.0.0.1', (_req, res) => {
      res.writeHead(500);
      res.end(Buffer.concat([Buffer.from('bad\u0000thing\u0007'), Buffer.alloc(100_000, 0x41)]));
    });
    try {
      const { row } = await deliverOnce(onlyOne, `http://127.0.0.1:${noisy.port}/hook`);
      expect(row.statusCode).toBe(500);
      expect(row.responseSnippet!.startsWith('bad?thing?AAA')).toBe(true);
      expect(row.responseSnippet!.length).toBeLessThanOrEqual(256);
    } finally {
      await noisy.close();
    }
  });

  it('reads DAPPLE_WEBHOOK_ALLOW_PRIVATE as 1/0 or a list of addresses and ranges', () => {
    const env = (v: string) => loadEnv({ DAPPLE_WEBHOOK_ALLOW_PRIVATE: v }).DAPPLE_WEBHOOK_ALLOW_PRIVATE;
    expect(env('1')).toBe(true);
    expect(env('0')).toBe(false);
    expect(env('10.0.0.5, 192.168.0.0/16')).toEqual(['10.0.0.5', '192.168.0.0/16']);
    expect(() => env('intranet')).toThrow(/DAPPLE_WEBHOOK_ALLOW_PRIVATE/);
    expect(loadEnv({}).DAPPLE_WEBHOOK_ALLOW_PRIVATE).toBe(false); // the default: refused
  });
});
