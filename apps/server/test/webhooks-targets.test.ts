import { createHmac, randomUUID } from 'node:crypto';
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
    ]) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
    for (const ip of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '2001:4860:4860::8888'])
      expect(isPrivateAddress(ip), ip).toBe(false);
  });
});

describe('allowPrivateTargets: false', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({
      webhooks: { secret: TEST_SECRET, allowPrivateTargets: false },
      jobs: { workers: false },
      logLevel: 'error',
    });
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('refuses to deliver to a loopback target and logs why', async () => {
    const admin = await signUpUser(hub, 'Pia');
    const teamId = await createTeam(admin, 'Strict', 'strict-hooks');
    const created = ok(
      await admin.client.request<{ createWebhook: any }>(
        `mutation ($t: ID!) { createWebhook(teamId: $t, url: "http://127.0.0.1:9/hook", events: [MODEL_PUBLISHED]) { webhook { id } } }`,
        { t: teamId },
      ),
    ).createWebhook;
    const deliveryId = randomUUID();
    await expect(
      hub.hub.services.webhooks.deliver(
        {
          webhookId: created.webhook.id,
          deliveryId,
          event: 'model.published',
          occurredAt: new Date().toISOString(),
          data: {},
        },
        1,
        true,
        5,
      ),
    ).rejects.toThrow(/private address 127\.0\.0\.1/);
    const [row] = await hub.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.deliveryId, deliveryId));
    expect(row).toMatchObject({ status: 'failed', statusCode: null, nextRetryAt: null });
    expect(row!.error).toContain('refuses private-network webhook targets');
  });
});
