import { encodeMetricBatch, METRIC_BATCH_CONTENT_TYPE } from '@dapple/contracts/metric-batch';
import { TrainerApiError, TrainerClient } from '@dapple/contracts/trainer-client';
import { TRAINER_API_PREFIX } from '@dapple/contracts/trainer-protocol';
import { latestMetrics } from '@dapple/db';
import { startTestHub, type TestHub } from './support/hub.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMetricsChannel, type RunSignal } from '../src/services/runs/signals.ts';
import type { SignedInUser } from './helpers.ts';
import { annWithDataset, ok, runningRunWithToken } from './runs-fixtures.ts';
import { graphqlWsClient } from './ws-fixtures.ts';

// The metrics route with the binary body TrainerClient sends (runs-api.test.ts covers the JSON body).
let hub: TestHub;
let ann: SignedInUser;
let versionId: string;

beforeAll(async () => {
  hub = await startTestHub({ runs: { executor: false } });
  ({ ann, versionId } = await annWithDataset(hub, { resolution: 8, channels: 1, n: 8 }));
});
afterAll(async () => {
  await hub?.close();
});

const post = (token: string, body: Uint8Array) =>
  fetch(`${hub.url}${TRAINER_API_PREFIX}/metrics`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': METRIC_BATCH_CONTENT_TYPE },
    body: body as unknown as BodyInit,
  });

describe('POST /metrics with a binary batch', () => {
  it('stores what TrainerClient sends, NaN/Infinity included; a resent batch changes nothing', async () => {
    const r = await runningRunWithToken(hub, ann, versionId);
    const points = [
      { key: 'loss', step: 1, value: 0.5 },
      { key: 'lr', step: 1, value: 1e-3 },
      { key: 'loss', step: 2, value: Number.NaN },
      { key: 'loss', step: 3, value: -Infinity },
      { key: 'lr', step: 3, value: 2e-3 },
    ];
    await new TrainerClient({ hubUrl: hub.url, runToken: r.token }).metrics(points);
    const latest = await latestMetrics(hub.db, r.id);
    expect(latest.map(({ key, step, value }) => ({ key, step, value }))).toEqual([
      { key: 'loss', step: 3, value: -Infinity },
      { key: 'lr', step: 3, value: 2e-3 },
    ]);
    const resent = await post(r.token, encodeMetricBatch(points.map((p) => ({ ...p, value: 42 }))));
    expect(resent.status, await resent.clone().text()).toBe(200);
    expect(await resent.json()).toEqual({ inserted: 0 });
    const series = ok(
      await ann.client.request(
        `query ($id: ID!) { run(id: $id) { metrics(keys: ["loss"], maxPoints: 10) { points { step count nonFinite last } } } }`,
        { id: r.id },
      ),
    );
    expect(series.run.metrics[0].points).toEqual([
      { step: 1, count: 1, nonFinite: 0, last: 0.5 },
      { step: 2, count: 0, nonFinite: 1, last: null },
      { step: 3, count: 0, nonFinite: 1, last: null },
    ]);
  });

  it('answers 400 naming the field for a malformed batch, and stores nothing', async () => {
    const r = await runningRunWithToken(hub, ann, versionId);
    const error = async (body: Uint8Array) => {
      const res = await post(r.token, body);
      expect(res.status).toBe(400);
      return (await res.json()).error;
    };
    expect(await error(new TextEncoder().encode('not a batch'))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'body',
    });
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ key: 'loss', step: i, value: 1 }));
    expect(await error(encodeMetricBatch(tooMany))).toMatchObject({
      field: 'points',
      message: expect.stringMatching(/at most 1000 points/),
    });
    expect(await error(encodeMetricBatch([{ key: 'a b', step: 0, value: 1 }]))).toMatchObject({ field: 'keys[0]' });
    expect(
      await error(
        encodeMetricBatch([
          { key: 'loss', step: 0, value: 1 },
          { key: 'loss', step: 2 ** 31, value: 1 },
        ]),
      ),
    ).toMatchObject({ field: 'steps[1]' });
    expect(await latestMetrics(hub.db, r.id)).toEqual([]);
  });

  it('answers 401 without a valid token and 413 over 2 MB, with the request id like every route', async () => {
    const r = await runningRunWithToken(hub, ann, versionId);
    const batch = encodeMetricBatch([{ key: 'loss', step: 1, value: 1 }]);
    const anonymous = await fetch(`${hub.url}${TRAINER_API_PREFIX}/metrics`, {
      method: 'POST',
      headers: { 'content-type': METRIC_BATCH_CONTENT_TYPE, 'x-request-id': 'trace-7' },
      body: batch as unknown as BodyInit,
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('x-request-id')).toBe('trace-7');
    expect((await anonymous.json()).error.code).toBe('UNAUTHENTICATED');
    expect((await post('not-a-token', batch)).status).toBe(401);
    const huge = await post(r.token, new Uint8Array(2 * 1024 * 1024 + 1));
    expect(huge.status).toBe(413);
    expect((await huge.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await post(r.token, batch)).status).toBe(200);
  });

  it('signals the new steps of each run through Postgres NOTIFY/LISTEN (all runs of a flush in one statement)', async () => {
    const [a, b] = [await runningRunWithToken(hub, ann, versionId), await runningRunWithToken(hub, ann, versionId)];
    const { pubsub } = hub.hub.services.runSignals;
    const first = (runId: string) =>
      pubsub
        .subscribe(runMetricsChannel(runId))
        .next()
        .then((r) => r.value as RunSignal);
    const [signalA, signalB] = [first(a.id), first(b.id)];
    const send = (token: string, steps: number[]) =>
      post(token, encodeMetricBatch(steps.map((step) => ({ key: 'loss', step, value: step }))));
    await Promise.all([send(a.token, [5, 6, 7, 8]), send(b.token, [1])]);
    expect(await signalA).toEqual({ kind: 'metrics', runId: a.id, fromStep: 5, toStep: 8 });
    expect(await signalB).toEqual({ kind: 'metrics', runId: b.id, fromStep: 1, toStep: 1 });
  });

  it('streams a key stored after other keys of the same step (held-out bits/dim comes in a later batch)', async () => {
    const r = await runningRunWithToken(hub, ann, versionId);
    const ws = graphqlWsClient(hub.wsUrl, { cookie: ann.client.cookies.header() });
    const seen: { key: string; step: number; value: number }[] = [];
    const caughtUp = new Promise<void>((resolve, reject) => {
      ws.subscribe(
        {
          query: `subscription ($id: ID!) { runMetrics(id: $id, keys: ["loss", "held_out_bits_per_dim"]) { points { key step value } } }`,
          variables: { id: r.id },
        },
        {
          next: (m) => {
            if (m.errors) return reject(new Error(JSON.stringify(m.errors)));
            seen.push(...(m.data as { runMetrics: { points: typeof seen } }).runMetrics.points);
            resolve();
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
    try {
      const send = (points: typeof seen) => post(r.token, encodeMetricBatch(points));
      // The first batch is the subscription's catch-up (the stream starts with what is stored).
      expect((await send([{ key: 'loss', step: 1, value: 1 }])).status).toBe(200);
      await caughtUp;
      // Step 10's loss goes out first; its held-out value (evaluated after the step) in the next batch.
      expect((await send([{ key: 'loss', step: 10, value: 0.5 }])).status).toBe(200);
      await expect.poll(() => seen.some((p) => p.key === 'loss' && p.step === 10)).toBe(true);
      expect((await send([{ key: 'held_out_bits_per_dim', step: 10, value: 7.5 }])).status).toBe(200);
      await expect
        .poll(() => seen.filter((p) => p.key === 'held_out_bits_per_dim'))
        .toEqual([{ key: 'held_out_bits_per_dim', step: 10, value: 7.5 }]);
      // Each point once: the late key's read does not send step 10's loss again.
      expect(seen.filter((p) => p.key === 'loss').map((p) => p.step)).toEqual([1, 10]);
    } finally {
      await ws.dispose();
    }
  });

  it('refuses the token once the run has ended', async () => {
    const r = await runningRunWithToken(hub, ann, versionId);
    const client = new TrainerClient({ hubUrl: hub.url, runToken: r.token });
    await client.metrics([{ key: 'loss', step: 1, value: 1 }]); // caches the token check
    await client.finish({ outcome: 'succeeded', step: 1 });
    const refused = await client.metrics([{ key: 'loss', step: 2, value: 1 }]).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(TrainerApiError);
    expect((refused as TrainerApiError).revoked).toBe(true);
    expect((await latestMetrics(hub.db, r.id)).map((m) => m.step)).toEqual([1]);
  });
});
