import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_EVENTS, type Webhook, type WebhookDelivery } from '@dapple/db';
import { builder } from '../builder.ts';
import { upperCaseValues } from '../enum-values.ts';

const toEnumKey = (e: string) => e.replace('.', '_').toUpperCase();
const WebhookEventEnum = builder.enumType('WebhookEvent', {
  description:
    'RUN_STARTED (training began), RUN_FINISHED (succeeded or cancelled; see data.run.status), RUN_FAILED, MODEL_PUBLISHED, EVALUATION_FINISHED.',
  values: Object.fromEntries(WEBHOOK_EVENTS.map((e) => [toEnumKey(e), { value: e }])),
});
const DeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  values: upperCaseValues(WEBHOOK_DELIVERY_STATUSES),
});

const WebhookRef = builder.objectRef<Webhook>('Webhook').implement({
  description:
    'POSTs JSON `{ id, event, occurredAt, teamId, data }` signed with `X-Dapple-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`; ' +
    'retried with backoff (≈5 s, 10 s, 20 s … 6 retries) until a 2xx answer. `X-Dapple-Delivery` is the same on every retry of one event.',
  fields: (t) => ({
    id: t.exposeID('id'),
    teamId: t.exposeID('teamId'),
    url: t.exposeString('url'),
    events: t.field({ type: [WebhookEventEnum], resolve: (w) => w.events }),
    active: t.exposeBoolean('active'),
    description: t.exposeString('description'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const DeliveryRef = builder.objectRef<WebhookDelivery>('WebhookDelivery').implement({
  description: 'One delivery attempt.',
  fields: (t) => ({
    id: t.exposeID('id'),
    deliveryId: t.exposeID('deliveryId'),
    event: t.field({ type: WebhookEventEnum, resolve: (d) => d.event }),
    attempt: t.exposeInt('attempt'),
    status: t.field({ type: DeliveryStatusEnum, resolve: (d) => d.status }),
    statusCode: t.exposeInt('statusCode', { nullable: true }),
    responseSnippet: t.exposeString('responseSnippet', {
      nullable: true,
      description: 'The first 1000 characters of the answer.',
    }),
    error: t.exposeString('error', { nullable: true }),
    durationMs: t.exposeInt('durationMs', { nullable: true }),
    nextRetryAt: t.expose('nextRetryAt', {
      type: 'DateTime',
      nullable: true,
      description: 'Earliest time of the next attempt, when one is scheduled.',
    }),
    payloadJson: t.string({ resolve: (d) => JSON.stringify(d.payload) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const CreatedWebhookRef = builder.objectRef<{ webhook: Webhook; secret: string }>('CreatedWebhook').implement({
  fields: (t) => ({
    webhook: t.field({ type: WebhookRef, resolve: (r) => r.webhook }),
    secret: t.string({ description: 'The signing secret (whsec_…), shown only now.', resolve: (r) => r.secret }),
  }),
});

builder.queryFields((t) => ({
  webhooks: t.field({
    type: [WebhookRef],
    authScopes: { authenticated: true },
    description: "The team's webhooks (team admins only).",
    args: { teamId: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.webhooks.list(ctx, String(args.teamId)),
  }),
  webhookDeliveries: t.field({
    type: [DeliveryRef],
    authScopes: { authenticated: true },
    description: 'Delivery log, newest first (team admins only).',
    args: { webhookId: t.arg.id({ required: true }), first: t.arg.int({ defaultValue: 50 }) },
    resolve: (_r, args, ctx) => ctx.services.webhooks.deliveries(ctx, String(args.webhookId), args.first ?? 50),
  }),
}));

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: CreatedWebhookRef,
    authScopes: { authenticated: true },
    description:
      'http(s) URLs only; redirects are not followed. Private-network targets are allowed unless the hub is configured otherwise.',
    args: {
      teamId: t.arg.id({ required: true }),
      url: t.arg.string({ required: true }),
      events: t.arg({ type: [WebhookEventEnum], required: true }),
      description: t.arg.string(),
    },
    resolve: (_r, args, ctx) =>
      ctx.services.webhooks.create(ctx, {
        teamId: args.teamId,
        url: args.url,
        events: args.events,
        ...(args.description != null ? { description: args.description } : {}),
      }),
  }),
  setWebhookActive: t.field({
    type: WebhookRef,
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }), active: t.arg.boolean({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.webhooks.setActive(ctx, String(args.id), args.active),
  }),
  deleteWebhook: t.boolean({
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.webhooks.delete(ctx, String(args.id)),
  }),
}));
