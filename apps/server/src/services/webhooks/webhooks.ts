/**
 * Team webhooks: HMAC-SHA256-signed JSON POSTs with retries (the `webhook.deliver` job's backoff) and a
 * delivery log (one webhook_deliveries row per attempt).
 *
 * Signature: header `X-Dapple-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, `${t}.${body}`)>`;
 * also `X-Dapple-Event`, `X-Dapple-Delivery` (same id on every retry of one event: de-duplicate on it).
 * The signing secret (`whsec_…`) is shown once at creation and stored AES-256-GCM-encrypted with a key
 * derived from the hub secret (DAPPLE_SECRET), so a database dump alone cannot forge deliveries.
 *
 * Targets: only http(s) URLs. Loopback, private, link-local (cloud metadata) and reserved addresses are refused
 * unless `allowPrivateTargets` (env DAPPLE_WEBHOOK_ALLOW_PRIVATE=1): checked on the address each connection
 * actually resolves to, for the first target and every redirect (egress.ts). Only a short, sanitised excerpt of
 * the reply is read and stored.
 *
 * Events: model.published and evaluation.finished are emitted by their services through `emit()`; run.started /
 * run.finished / run.failed come from run status changes (see run-relay.ts).
 */
import { randomUUID } from 'node:crypto';
import { and, desc, eq } from 'drizzle-orm';
import {
  sanitizeText,
  WEBHOOK_EVENTS,
  webhookDeliveries,
  webhooks,
  type Webhook,
  type WebhookDelivery,
  type WebhookEvent,
} from '@dapple/db';
import { z } from 'zod';
import { randomSecret, requireViewer } from '../auth/index.ts';
import { badInput, conflict, notFound } from '../errors.ts';
import type { JobSender, ParsedJobPayload } from '../job-sender.ts';
import type { TeamService } from '../teams/index.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import { parseInput } from '../validation.ts';
import { decrypt, deliveryIdFor, encrypt, secretsKey, signPayload } from './signing.ts';
import { postWithEgressPolicy, type PrivateTargets } from './egress.ts';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
export const SIGNATURE_HEADER = 'x-dapple-signature';
/** Bytes of a receiver's reply kept in the delivery log (enough to see an error message, not to exfiltrate). */
const RESPONSE_EXCERPT_BYTES = 256;
const MAX_WEBHOOKS_PER_TEAM = 20;

/** What other services call to fire an event (after their transaction committed). */
export interface WebhookEmitter {
  emit(
    teamId: string,
    event: WebhookEvent,
    data: Record<string, unknown>,
    opts?: { deliveryKey?: string },
  ): Promise<void>;
}

export interface WebhookConfig {
  /** The hub secret; webhook signing secrets are encrypted with a key derived from it. Webhooks are disabled without it. */
  secret?: string;
  /**
   * Default false: targets resolving to loopback, private, link-local or reserved addresses are refused. True
   * allows them all; a list of addresses / CIDR ranges allows just those (env DAPPLE_WEBHOOK_ALLOW_PRIVATE).
   */
  allowPrivateTargets?: PrivateTargets;
  /** Per attempt. Default 10 s. */
  timeoutMs?: number;
}

const createInput = z.object({
  teamId: z.uuid('must be a valid team id'),
  url: z
    .string()
    .trim()
    .max(2000, 'must be at most 2000 characters')
    .pipe(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1, 'must list at least one event').max(WEBHOOK_EVENTS.length),
  description: z.string().max(500, 'must be at most 500 characters').default(''),
});

/** The job payload of one delivery (all attempts). */
export type DeliverPayload = ParsedJobPayload<'webhook.deliver'>;

export class WebhookService implements WebhookEmitter {
  private readonly key: Buffer | null;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly teams: TeamService,
    private readonly jobs: JobSender,
    private readonly config: WebhookConfig = {},
  ) {
    this.key = config.secret ? secretsKey(config.secret) : null;
  }

  /** Admins only: webhooks see every event of the team. Returns the signing secret once. */
  async create(meta: RequestMeta, input: unknown): Promise<{ webhook: Webhook; secret: string }> {
    const viewer = requireViewer(meta);
    const p = parseInput(createInput, input);
    await this.teams.requireTeamRole(meta, p.teamId, 'admin');
    const key = this.requireKey();
    const existing = await this.deps.db.select({ id: webhooks.id }).from(webhooks).where(eq(webhooks.teamId, p.teamId));
    if (existing.length >= MAX_WEBHOOKS_PER_TEAM)
      throw badInput('teamId', `teamId: a team may have at most ${MAX_WEBHOOKS_PER_TEAM} webhooks`);
    const secret = WEBHOOK_SECRET_PREFIX + randomSecret();
    const [webhook] = await this.deps.db
      .insert(webhooks)
      .values({
        teamId: p.teamId,
        url: p.url,
        events: [...new Set(p.events)],
        description: p.description,
        secretEncrypted: encrypt(key, secret),
        createdBy: viewer.user.id,
      })
      .returning();
    return { webhook: webhook!, secret };
  }

  async list(meta: RequestMeta, teamId: string): Promise<Webhook[]> {
    await this.teams.requireTeamRole(meta, teamId, 'admin');
    return this.deps.db.select().from(webhooks).where(eq(webhooks.teamId, teamId)).orderBy(desc(webhooks.createdAt));
  }

  async get(meta: RequestMeta, id: string): Promise<Webhook> {
    if (!z.uuid().safeParse(id).success) throw notFound('Webhook');
    const [webhook] = await this.deps.db.select().from(webhooks).where(eq(webhooks.id, id));
    if (!webhook) throw notFound('Webhook');
    await this.teams.requireTeamRole(meta, webhook.teamId, 'admin', 'Webhook');
    return webhook;
  }

  async setActive(meta: RequestMeta, id: string, active: boolean): Promise<Webhook> {
    const webhook = await this.get(meta, id);
    const [updated] = await this.deps.db
      .update(webhooks)
      .set({ active })
      .where(eq(webhooks.id, webhook.id))
      .returning();
    return updated!;
  }

  async delete(meta: RequestMeta, id: string): Promise<boolean> {
    const webhook = await this.get(meta, id);
    await this.deps.db.delete(webhooks).where(eq(webhooks.id, webhook.id));
    return true;
  }

  async deliveries(meta: RequestMeta, webhookId: string, first = 50): Promise<WebhookDelivery[]> {
    const webhook = await this.get(meta, webhookId);
    return this.deps.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.webhookId, webhook.id))
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.attempt))
      .limit(Math.max(1, Math.min(first, 500)));
  }

  /**
   * Queues one delivery job per active webhook of the team that subscribes to `event`. `deliveryKey` makes
   * the delivery id deterministic (several hubs emitting the same event then deliver it once).
   */
  async emit(
    teamId: string,
    event: WebhookEvent,
    data: Record<string, unknown>,
    opts: { deliveryKey?: string } = {},
  ): Promise<void> {
    if (!this.key) return;
    const targets = await this.deps.db
      .select()
      .from(webhooks)
      .where(and(eq(webhooks.teamId, teamId), eq(webhooks.active, true)));
    const occurredAt = this.deps.now().toISOString();
    for (const w of targets) {
      if (!w.events.includes(event)) continue;
      const deliveryId = opts.deliveryKey ? deliveryIdFor(`${opts.deliveryKey}:${w.id}`) : randomUUID();
      await this.jobs.send('webhook.deliver', { webhookId: w.id, deliveryId, event, occurredAt, data });
    }
  }

  /**
   * One attempt (called by the job; attempt = retryCount + 1). Logs the attempt, throws on failure so the job
   * retries with backoff. An attempt another hub already made (same delivery id and attempt) is skipped.
   */
  async deliver(p: DeliverPayload, attempt: number, finalAttempt: boolean, retryDelaySeconds: number): Promise<void> {
    const [webhook] = await this.deps.db.select().from(webhooks).where(eq(webhooks.id, p.webhookId));
    if (!webhook || !webhook.active) return; // deleted or paused since: nothing to do
    const body = JSON.stringify({
      id: p.deliveryId,
      event: p.event,
      occurredAt: p.occurredAt,
      teamId: webhook.teamId,
      data: p.data,
    });
    const [row] = await this.deps.db
      .insert(webhookDeliveries)
      .values({
        webhookId: webhook.id,
        deliveryId: p.deliveryId,
        event: p.event,
        payload: JSON.parse(body) as Record<string, unknown>,
        attempt,
      })
      .onConflictDoNothing({ target: [webhookDeliveries.deliveryId, webhookDeliveries.attempt] })
      .returning();
    if (!row) return;
    const started = Date.now();
    let statusCode: number | null = null;
    let snippet: string | null = null;
    let error: string | null = null;
    try {
      const ts = Math.floor(this.deps.now().getTime() / 1000);
      const res = await postWithEgressPolicy(webhook.url, {
        allowPrivate: this.config.allowPrivateTargets ?? false,
        timeoutMs: this.config.timeoutMs ?? 10_000,
        excerptBytes: RESPONSE_EXCERPT_BYTES,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Dapple-Webhooks/1',
          'x-dapple-event': p.event,
          'x-dapple-delivery': p.deliveryId,
          [SIGNATURE_HEADER]: signPayload(decrypt(this.requireKey(), webhook.secretEncrypted), body, ts),
        },
        body,
      });
      statusCode = res.status;
      // A short excerpt with NUL, invalid UTF-8 and control characters already replaced (egress.ts).
      snippet = res.excerpt;
      if (res.status < 200 || res.status >= 300) error = `the receiver answered HTTP ${res.status}`;
    } catch (err) {
      error = sanitizeText(
        err instanceof Error ? `${err.name === 'TimeoutError' ? 'timed out' : err.message}` : String(err),
      );
    }
    const ok = error === null;
    // pg-boss backoff: delay × 2^attempt, jittered up to double; this is the earliest the next try starts.
    const nextRetryAt =
      ok || finalAttempt ? null : new Date(this.deps.now().getTime() + retryDelaySeconds * 2 ** (attempt - 1) * 1000);
    await this.deps.db
      .update(webhookDeliveries)
      .set({
        status: ok ? 'succeeded' : 'failed',
        statusCode,
        responseSnippet: snippet,
        error,
        durationMs: Date.now() - started,
        nextRetryAt,
        finishedAt: this.deps.now(),
      })
      .where(eq(webhookDeliveries.id, row.id));
    if (!ok) throw new Error(`webhook ${webhook.id} delivery ${p.deliveryId} attempt ${attempt}: ${error}`);
  }

  private requireKey(): Buffer {
    if (!this.key)
      throw conflict(
        'Webhooks need the hub secret (DAPPLE_SECRET) to encrypt their signing secrets; this hub was started without one',
      );
    return this.key;
  }
}
