import { evaluations, webhookDeliveries } from '@dapple/db';
import { createTestDatabase, errorCode, type TestDatabase } from '@dapple/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { GENERATE, publishTinyVersion, readyNoiseDataset, tinyUNet } from './sampling-fixtures.ts';
import { startTestHub, TEST_SECRET, type TestHub } from './support/hub.ts';

/**
 * cancelEvaluation: a queued evaluation leaves the queue, a running one frees its worker (on this hub or another),
 * only its requester or a team admin may, and the team's webhooks hear evaluation.finished with status cancelled.
 */
let db: TestDatabase;
let hubA: TestHub;
let hubB: TestHub;
let owner: SignedInUser;
let ron: SignedInUser;
let mia: SignedInUser;
let modelId: string;
let slowVersionId: string;
let slowDatasetVersionId: string;
let fastVersionId: string;
let fastDatasetVersionId: string;

const EVALUATE = `mutation ($input: EvaluateModelInput!) { evaluateModel(input: $input) { id status } }`;
const EVALUATION = `query ($id: ID!) { evaluation(id: $id) { id status phase queuePosition samplesDone viewerCanCancel kid { mean } finishedAt } }`;
const CANCEL = `mutation ($id: ID!) { cancelEvaluation(id: $id) { id status queuePosition viewerCanCancel finishedAt } }`;
const MODEL_EVALUATIONS = `query ($id: ID!, $statuses: [EvaluationStatus!], $first: Int) {
  model(id: $id) { evaluations(statuses: $statuses, first: $first) { id status } }
}`;
type Ev = {
  id: string;
  status: string;
  queuePosition: number | null;
  samplesDone: number;
  phase: string | null;
  viewerCanCancel: boolean;
  kid: { mean: number } | null;
  finishedAt: string | null;
};

beforeAll(async () => {
  db = await createTestDatabase();
  hubA = await startTestHub({
    databaseUrl: db.connectionString,
    runs: { executor: false },
    jobs: { pollingIntervalSeconds: 0.5 },
    sampling: { workers: 1, progressIntervalMs: 100 },
    webhooks: { secret: TEST_SECRET, allowPrivateTargets: true },
  });
  // Hub B runs no jobs (so every evaluation runs on hub A, where the checks look): it only answers the cancel.
  hubB = await startTestHub({
    databaseUrl: db.connectionString,
    store: hubA.store,
    runs: { executor: false },
    jobs: { workers: false },
  });
  owner = await signUpUser(hubA, 'Olga');
  ron = await signUpUser(hubA, 'Ron');
  mia = await signUpUser(hubA, 'Mia');
  const teamId = await createTeam(owner, 'Evals', 'evals');
  await addMember(owner, teamId, ron, 'MEMBER');
  await addMember(owner, teamId, mia, 'MEMBER');
  // 16×16 and 1,000 timesteps: 10 samples at 1,000 steps take many seconds, long enough to cancel mid-way.
  const slow = await publishTinyVersion(hubA, teamId, owner.id, {
    timesteps: 1000,
    unet: tinyUNet({ resolution: 16, baseChannels: 16 }),
  });
  modelId = slow.modelId;
  slowVersionId = slow.version.id;
  ({ versionId: slowDatasetVersionId } = await readyNoiseDataset(hubA, teamId, { resolution: 16, n: 10 }));
  fastVersionId = (await publishTinyVersion(hubA, teamId, owner.id)).version.id;
  ({ versionId: fastDatasetVersionId } = await readyNoiseDataset(hubA, teamId, { n: 12, seed: 3 }));
  // A webhook for evaluation.finished; nothing listens at its port: the delivery rows are what is checked.
  const hook = await owner.client.request(
    `mutation ($t: ID!, $u: String!) { createWebhook(teamId: $t, url: $u, events: [EVALUATION_FINISHED]) { webhook { id } } }`,
    { t: teamId, u: 'http://127.0.0.1:9/evaluations' },
  );
  expect(hook.errors).toBeUndefined();
});
afterAll(async () => {
  await hubA?.close();
  await hubB?.close();
  await db?.drop();
});

async function evaluate(u: SignedInUser, input: Record<string, unknown>): Promise<string> {
  const res = await u.client.request<{ evaluateModel: { id: string } }>(EVALUATE, {
    input: { extractor: 'OFFLINE', numSamples: 10, ...input },
  });
  expect(res.errors).toBeUndefined();
  return res.data!.evaluateModel.id;
}
const read = async (u: SignedInUser, id: string) =>
  (await u.client.request<{ evaluation: Ev }>(EVALUATION, { id })).data!.evaluation;
async function until(id: string, done: (e: Ev) => boolean, what: string): Promise<Ev> {
  for (let i = 0; i < 1200; i++) {
    const e = await read(owner, id);
    if (done(e)) return e;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`evaluation ${id} never got ${what} (now ${(await read(owner, id)).status})`);
}
/** An evaluation of the slow model (10 samples × 1,000 steps: far longer than any check), once it RUNS. */
async function runningSlowEvaluation(u: SignedInUser, seed: number): Promise<string> {
  const id = await evaluate(u, {
    modelVersionId: slowVersionId,
    datasetVersionId: slowDatasetVersionId,
    steps: 1000,
    seed,
  });
  await until(id, (e) => e.status === 'RUNNING', 'RUNNING');
  return id;
}
const cancel = (u: SignedInUser, id: string) => u.client.request<{ cancelEvaluation: Ev }>(CANCEL, { id });

describe('cancelEvaluation', () => {
  it('cancels a queued evaluation (its requester or a team admin, not another member) and a running one; the worker is free again', async () => {
    // The one worker is busy with a long sample job: the evaluation waits in the queue.
    const busy = await owner.client.request<{ generateSamples: { id: string } }>(GENERATE, {
      input: { modelVersionId: slowVersionId, count: 64, steps: 1000, seed: 1 },
    });
    expect(busy.errors).toBeUndefined();
    const queued = await evaluate(ron, { modelVersionId: fastVersionId, datasetVersionId: fastDatasetVersionId });
    const waiting = await until(queued, (e) => e.status === 'QUEUED' && e.queuePosition !== null, 'a queue position');
    expect(waiting.viewerCanCancel).toBe(true); // owner: a team admin
    expect((await read(ron, queued)).viewerCanCancel).toBe(true); // who asked for it
    expect((await read(mia, queued)).viewerCanCancel).toBe(false); // another member
    expect(errorCode(await cancel(mia, queued))).toBe('FORBIDDEN');

    const list = await mia.client.request<{ model: { evaluations: { id: string; status: string }[] } }>(
      MODEL_EVALUATIONS,
      { id: modelId, statuses: ['QUEUED', 'RUNNING'] },
    );
    // That evaluation is of the other model: this model's list (the slow one's) has none yet.
    expect(list.data!.model.evaluations).toEqual([]);

    const q = await cancel(owner, queued);
    expect(q.errors).toBeUndefined();
    expect(q.data!.cancelEvaluation).toMatchObject({
      status: 'CANCELLED',
      queuePosition: null,
      viewerCanCancel: false,
    });
    expect(q.data!.cancelEvaluation.finishedAt).not.toBeNull();
    expect(hubA.hub.services.sampling.scheduler.owns(queued)).toBe(false);
    // The sample job is cancelled while its worker may still be starting: the cancel must not be lost there.
    const stop = await owner.client.request(`mutation ($id: ID!) { cancelSampleJob(id: $id) { id } }`, {
      id: busy.data!.generateSamples.id,
    });
    expect(stop.errors).toBeUndefined();
    await hubA.hub.services.sampling.scheduler.idle();
    expect(hubA.hub.services.sampling.scheduler.timings.has(busy.data!.generateSamples.id)).toBe(false);

    // A running evaluation of the slow model: cancelled mid-way by whoever asked for it.
    const running = await runningSlowEvaluation(ron, 0);
    const listed = await mia.client.request<{ model: { evaluations: { id: string; status: string }[] } }>(
      MODEL_EVALUATIONS,
      { id: modelId, statuses: ['QUEUED', 'RUNNING', 'FAILED', 'CANCELLED'], first: 5 },
    );
    expect(listed.data!.model.evaluations).toEqual([{ id: running, status: 'RUNNING' }]);
    await new Promise((r) => setTimeout(r, 1000)); // the worker is sampling now, not loading
    const r = await cancel(ron, running);
    expect(r.data!.cancelEvaluation.status).toBe('CANCELLED');
    await hubA.hub.services.sampling.scheduler.idle();
    expect(hubA.hub.services.sampling.scheduler.evaluated.has(running)).toBe(false); // stopped, not finished

    // The worker is free: a small evaluation gets it and succeeds.
    const next = await evaluate(ron, {
      modelVersionId: fastVersionId,
      datasetVersionId: fastDatasetVersionId,
      steps: 2,
    });
    const finished = await until(next, (e) => e.status === 'SUCCEEDED' || e.status === 'FAILED', 'finished');
    expect(finished.status).toBe('SUCCEEDED');
    for (const id of [queued, running]) {
      const [row] = await hubA.db.select().from(evaluations).where(eq(evaluations.id, id));
      expect(row).toMatchObject({ status: 'cancelled', kidMean: null, fid: null, error: null });
    }
    // Cancelling a finished evaluation changes nothing.
    const again = await cancel(ron, next);
    expect(again.data!.cancelEvaluation).toMatchObject({ status: 'SUCCEEDED', viewerCanCancel: false });
    // The cancelled ones say where they stopped: one before it started, one while it generated.
    expect((await read(ron, queued)).phase).toBeNull();
    expect((await read(ron, running)).phase).toBe('GENERATING');

    // The team's webhooks heard of both cancellations once each, and of the success.
    for (const [id, status] of [
      [queued, 'cancelled'],
      [running, 'cancelled'],
      [next, 'succeeded'],
    ] as const) {
      let rows: (typeof webhookDeliveries.$inferSelect)[] = [];
      for (let i = 0; i < 300 && rows.length === 0; i++) {
        rows = (
          await hubA.db
            .select()
            .from(webhookDeliveries)
            .where(and(eq(webhookDeliveries.event, 'evaluation.finished'), eq(webhookDeliveries.attempt, 1)))
        ).filter((d) => (d.payload.data as { evaluationId?: string }).evaluationId === id);
        if (!rows.length) await new Promise((res) => setTimeout(res, 100));
      }
      expect(
        rows.map((d) => (d.payload.data as { status?: string }).status),
        `webhook of ${status} ${id}`,
      ).toEqual([status]);
    }
  }, 300_000);

  it('a cancel sent to another hub stops the evaluation where it runs', async () => {
    const running = await runningSlowEvaluation(owner, 5);
    await new Promise((r) => setTimeout(r, 1000));
    const res = await fetch(hubB.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: owner.client.cookies.header()! },
      body: JSON.stringify({ query: CANCEL, variables: { id: running } }),
    });
    expect(
      ((await res.json()) as { data: { cancelEvaluation: { status: string } } }).data.cancelEvaluation.status,
    ).toBe('CANCELLED');
    // Hub A hears the cancel's notification (or, were it lost, sees the row at its next progress write) and stops.
    await hubA.hub.services.sampling.scheduler.idle();
    expect(hubA.hub.services.sampling.scheduler.evaluated.has(running)).toBe(false);
    const [row] = await hubA.db.select().from(evaluations).where(eq(evaluations.id, running));
    expect(row).toMatchObject({ status: 'cancelled', kidMean: null });
    // A successful evaluation is counted there: the check above can fail.
    expect(hubA.hub.services.sampling.scheduler.evaluated.size).toBe(1);
  }, 300_000);
});

describe('deleteEvaluation', () => {
  const DELETE = `mutation ($id: ID!) { deleteEvaluation(id: $id) }`;
  const COMPARABLE = `query ($id: ID!) { comparableEvaluations(modelId: $id) { evaluations { id viewerCanDelete } } }`;

  it('deletes an ended evaluation (its requester or a team admin), never a running one', async () => {
    const running = await runningSlowEvaluation(ron, 7);
    const busy = await ron.client.request(DELETE, { id: running });
    expect(errorCode(busy)).toBe('CONFLICT');
    expect(busy.errors?.[0]?.message).toBe('The evaluation is running: cancel it first, then delete it');
    expect((await cancel(ron, running)).errors).toBeUndefined();
    expect(errorCode(await mia.client.request(DELETE, { id: running }))).toBe('FORBIDDEN');
    const gone = await ron.client.request<{ deleteEvaluation: boolean }>(DELETE, { id: running });
    expect(gone.data).toEqual({ deleteEvaluation: true });
    expect(errorCode(await ron.client.request(EVALUATION, { id: running }))).toBe('NOT_FOUND');
    await hubA.hub.services.sampling.scheduler.idle();

    // A finished one leaves the comparable tables; an admin may delete what a member asked for.
    const done = await evaluate(ron, {
      modelVersionId: slowVersionId,
      datasetVersionId: slowDatasetVersionId,
      steps: 2,
    });
    await until(done, (e) => e.status === 'SUCCEEDED', 'SUCCEEDED');
    const listed = async (u: SignedInUser) =>
      (
        await u.client.request<{
          comparableEvaluations: { evaluations: { id: string; viewerCanDelete: boolean }[] }[];
        }>(COMPARABLE, { id: modelId })
      ).data!.comparableEvaluations.flatMap((g) => g.evaluations);
    expect((await listed(mia)).find((e) => e.id === done)).toEqual({ id: done, viewerCanDelete: false });
    expect((await listed(owner)).find((e) => e.id === done)).toEqual({ id: done, viewerCanDelete: true });
    expect((await owner.client.request(DELETE, { id: done })).data).toEqual({ deleteEvaluation: true });
    expect((await listed(owner)).map((e) => e.id)).not.toContain(done);
  }, 300_000);
});
