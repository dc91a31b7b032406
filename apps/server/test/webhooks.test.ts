import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runEvents, webhooks as webhooksTable } from '@dapple/db';
import { errorCode } from '@dapple/testing';
import { startTestHub, TEST_SECRET, type TestHub } from './support/hub.ts';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { finishedRunWithCheckpoints } from './models-fixtures.ts';
import { ok } from './runs-fixtures.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver that answers with the statuses queued in `answers` (then 200). */
class Receiver {
  readonly received: Received[] = [];
  answers: number[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const status = this.answers.shift() ?? 200;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'thanks' : 'receiver is down');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  async waitFor(check: (r: Received[]) => boolean, what: string, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.received)) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; received ${this.received.length} requests`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** What a receiver does: recompute the HMAC over `${t}.${body}` with its secret and compare in constant time. */
function verify(secret: string, r: Received): boolean {
  const header = String(r.headers['x-dapple-signature'] ?? '');
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${r.body}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

const CREATE = `mutation ($t: ID!, $u: String!, $e: [WebhookEvent!]!) { createWebhook(teamId: $t, url: $u, events: $e) { secret webhook { id url events active } } }`;
const DELIVERIES = `query ($id: ID!) { webhookDeliveries(webhookId: $id) { deliveryId event attempt status statusCode responseSnippet nextRetryAt } }`;

let hub: TestHub;
let admin: SignedInUser;
let member: SignedInUser;
let teamId: string;
const receiver = new Receiver();

beforeAll(async () => {
  hub = await startTestHub({
    webhooks: { secret: TEST_SECRET, allowPrivateTargets: true },
    jobs: { pollingIntervalSeconds: 0.5 },
    logLevel: 'error',
  });
  admin = await signUpUser(hub, 'Ada');
  member = await signUpUser(hub, 'Max');
  teamId = await createTeam(admin, 'Hooks', 'hooks-team');
  await addMember(admin, teamId, member, 'MEMBER');
  await receiver.start();
});

afterAll(async () => {
  await hub?.close();
  await receiver.close();
});

describe('webhooks', () => {
  let webhookId: string;
  let secret: string;

  it('only admins manage webhooks; only http(s) URLs; the secret is shown once and stored encrypted', async () => {
    expect(errorCode(await member.client.request(CREATE, { t: teamId, u: receiver.url, e: ['MODEL_PUBLISHED'] }))).toBe(
      'FORBIDDEN',
    );
    const bad = await admin.client.request(CREATE, { t: teamId, u: 'file:///etc/passwd', e: ['MODEL_PUBLISHED'] });
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    expect(bad.errors![0]!.message).toContain('url');
    const created = ok(
      await admin.client.request<{ createWebhook: any }>(CREATE, {
        t: teamId,
        u: receiver.url,
        e: ['MODEL_PUBLISHED', 'RUN_STARTED', 'RUN_FAILED'],
      }),
    ).createWebhook;
    webhookId = created.webhook.id;
    secret = created.secret;
    expect(secret.startsWith('whsec_')).toBe(true);
    const [row] = await hub.db.select().from(webhooksTable).where(eq(webhooksTable.id, webhookId));
    expect(row!.secretEncrypted).not.toContain(secret.slice(6));
    expect(
      errorCode(await member.client.request(`query ($t: ID!) { webhooks(teamId: $t) { id } }`, { t: teamId })),
    ).toBe('FORBIDDEN');
    expect(
      ok(
        await admin.client.request<{ webhooks: any[] }>(`query ($t: ID!) { webhooks(teamId: $t) { id } }`, {
          t: teamId,
        }),
      ).webhooks,
    ).toHaveLength(1);
  });

  it('delivers model.published signed, retries after a 500 and logs both attempts', async () => {
    receiver.answers = [500];
    const { run } = await finishedRunWithCheckpoints(hub, teamId, admin.id, [10]);
    const published = ok(
      await member.client.request<{ publishModel: any }>(
        `mutation ($r: ID!) { publishModel(input: { runId: $r, step: 10, modelName: "hooked" }) { version { id number } } }`,
        { r: run.id },
      ),
    ).publishModel;
    await receiver.waitFor(
      (r) => r.filter((x) => x.headers['x-dapple-event'] === 'model.published').length >= 2,
      'the retried model.published delivery',
    );
    const [first, second] = receiver.received.filter((x) => x.headers['x-dapple-event'] === 'model.published');
    for (const r of [first!, second!]) {
      expect(verify(secret, r)).toBe(true);
      expect(verify('whsec_wrong', r)).toBe(false);
    }
    expect(first!.headers['x-dapple-delivery']).toBe(second!.headers['x-dapple-delivery']);
    const body = JSON.parse(second!.body);
    expect(body).toMatchObject({
      event: 'model.published',
      teamId,
      data: { version: { id: published.version.id, number: 1 } },
    });

    // A tampered body fails verification.
    expect(verify(secret, { headers: second!.headers, body: second!.body.replace('"number":1', '"number":2') })).toBe(
      false,
    );

    const poll = async () =>
      ok(await admin.client.request<{ webhookDeliveries: any[] }>(DELIVERIES, { id: webhookId })).webhookDeliveries;
    let log = await poll();
    const deadline = Date.now() + 30_000;
    while (!log.some((d) => d.attempt === 2 && d.status === 'SUCCEEDED') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      log = await poll();
    }
    const attempts = log.filter((d) => d.event === 'MODEL_PUBLISHED').sort((a, b) => a.attempt - b.attempt);
    expect(attempts.map((d) => [d.attempt, d.status, d.statusCode])).toEqual([
      [1, 'FAILED', 500],
      [2, 'SUCCEEDED', 200],
    ]);
    expect(attempts[0].responseSnippet).toBe('receiver is down');
    expect(attempts[0].nextRetryAt).not.toBeNull();
    expect(attempts[1].nextRetryAt).toBeNull();
  });

  it('fires run.started from a run status change committed anywhere (run_events trigger), not unsubscribed events', async () => {
    const { run } = await finishedRunWithCheckpoints(hub, teamId, admin.id, [10]);
    const before = receiver.received.length;
    // What the runs service's transition() records when a trainer starts training, plus a succeeded (run.finished: not subscribed).
    await hub.db.insert(runEvents).values([
      {
        runId: run.id,
        attempt: 1,
        fromStatus: 'starting',
        toStatus: 'running',
        message: 'trainer attempt 1 is running',
      },
      { runId: run.id, attempt: 1, fromStatus: 'running', toStatus: 'succeeded', message: 'trainer finished' },
    ]);
    await receiver.waitFor(
      (r) => r.slice(before).some((x) => x.headers['x-dapple-event'] === 'run.started'),
      'run.started',
    );
    const started = receiver.received.slice(before).find((x) => x.headers['x-dapple-event'] === 'run.started')!;
    expect(verify(secret, started)).toBe(true);
    expect(JSON.parse(started.body)).toMatchObject({
      event: 'run.started',
      data: { run: { id: run.id, status: 'running' } },
    });
    // Give a wrongly sent run.finished the chance to arrive: a model.published round-trip after it proves the queue moved on.
    await hub.hub.services.webhooks.emit(teamId, 'model.published', { probe: true });
    await receiver.waitFor((r) => r.slice(before).some((x) => x.body.includes('"probe":true')), 'the probe');
    expect(receiver.received.slice(before).map((x) => x.headers['x-dapple-event'])).not.toContain('run.finished');
  });

  it('an inactive or deleted webhook gets nothing (no job is even queued)', async () => {
    ok(
      await admin.client.request(`mutation ($id: ID!) { setWebhookActive(id: $id, active: false) { active } }`, {
        id: webhookId,
      }),
    );
    const before = receiver.received.length;
    await hub.hub.services.webhooks.emit(teamId, 'model.published', { probe: 'paused' });
    ok(await admin.client.request(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: webhookId }));
    expect(errorCode(await admin.client.request(DELIVERIES, { id: webhookId }))).toBe('NOT_FOUND');
    expect(receiver.received.length).toBe(before);
  });
});
