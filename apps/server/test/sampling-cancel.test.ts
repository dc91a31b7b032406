import { sampleJobs } from '@dapple/db';
import { createTestDatabase, errorCode, type TestDatabase } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { GENERATE, publishTinyVersion, SAMPLE_JOB, tinyUNet } from './sampling-fixtures.ts';

/** cancelSampleJob: a queued job leaves the queue, a running one frees its worker, on this hub or another. */
let db: TestDatabase;
let hubA: TestHub;
let hubB: TestHub;
let owner: SignedInUser;
let member: SignedInUser;
let slowVersionId: string;
let fastVersionId: string;

const CANCEL = `mutation ($id: ID!) { cancelSampleJob(id: $id) { id status queuePosition images { url } } }`;

beforeAll(async () => {
  db = await createTestDatabase();
  hubA = await startTestHub({
    databaseUrl: db.connectionString,
    runs: { executor: false },
    sampling: { workers: 1, progressIntervalMs: 100 },
  });
  hubB = await startTestHub({ databaseUrl: db.connectionString, store: hubA.store, runs: { executor: false } });
  owner = await signUpUser(hubA, 'Olga');
  member = await signUpUser(hubA, 'Mia');
  const teamId = await createTeam(owner, 'Models', 'models');
  await addMember(owner, teamId, member, 'MEMBER');
  // 16×16, 1000 timesteps: a 64-image, 1000-step job runs for many seconds, long enough to be cancelled mid-way.
  slowVersionId = (
    await publishTinyVersion(hubA, teamId, owner.id, {
      timesteps: 1000,
      unet: tinyUNet({ resolution: 16, baseChannels: 16 }),
    })
  ).version.id;
  fastVersionId = (await publishTinyVersion(hubA, teamId, owner.id)).version.id;
});
afterAll(async () => {
  await hubA?.close();
  await hubB?.close();
  await db?.drop();
});

const generate = async (u: SignedInUser, input: Record<string, unknown>) => {
  const res = await u.client.request<{ generateSamples: { id: string } }>(GENERATE, { input });
  expect(res.errors).toBeUndefined();
  return res.data!.generateSamples.id;
};
const read = async (id: string) =>
  (await owner.client.request<{ sampleJob: { status: string; progress: { stepsDone: number } } }>(SAMPLE_JOB, { id }))
    .data!.sampleJob;
/** Waits for a status; for RUNNING also for the first denoising steps (the worker is sampling, not loading). */
async function until(id: string, wanted: string) {
  for (let i = 0; i < 600; i++) {
    const job = await read(id);
    if (job.status === wanted && (wanted !== 'RUNNING' || job.progress.stepsDone > 0)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} never reached ${wanted} (now ${(await read(id)).status})`);
}

describe('cancelSampleJob', () => {
  it('cancels a queued job and a running one on this hub; the worker is free for the next job', async () => {
    const running = await generate(owner, { modelVersionId: slowVersionId, count: 64, steps: 1000, seed: 1 });
    await until(running, 'RUNNING');
    const queued = await generate(owner, { modelVersionId: fastVersionId, count: 1, steps: 2, seed: 2 });

    // A teammate who did not ask for them may not cancel them.
    const refused = await member.client.request(CANCEL, { id: queued });
    expect(errorCode(refused)).toBe('FORBIDDEN');

    const q = await owner.client.request<{ cancelSampleJob: { status: string; queuePosition: number | null } }>(
      CANCEL,
      { id: queued },
    );
    expect(q.errors).toBeUndefined();
    expect(q.data!.cancelSampleJob).toMatchObject({ status: 'CANCELLED', queuePosition: null });
    expect(hubA.hub.services.sampling.scheduler.owns(queued)).toBe(false);

    const r = await owner.client.request<{ cancelSampleJob: { status: string; images: unknown[] } }>(CANCEL, {
      id: running,
    });
    expect(r.data!.cancelSampleJob).toMatchObject({ status: 'CANCELLED', images: [] });
    await hubA.hub.services.sampling.scheduler.idle();
    // The worker stopped instead of finishing 1000 steps × 64 images (timings are kept only for finished work).
    expect(hubA.hub.services.sampling.scheduler.timings.has(running)).toBe(false);

    // The next job gets the worker and succeeds; the cancelled ones stay cancelled with nothing stored.
    const next = await generate(owner, { modelVersionId: fastVersionId, count: 1, steps: 2, seed: 3 });
    await until(next, 'SUCCEEDED');
    for (const id of [queued, running]) {
      const [row] = await hubA.db.select().from(sampleJobs).where(eq(sampleJobs.id, id));
      expect(row).toMatchObject({ status: 'cancelled', resultKeys: [] });
      expect(row!.finishedAt).not.toBeNull();
    }
    expect(hubA.hub.services.sampling.scheduler.startOrder).not.toContain(queued);

    // Cancelling a finished job changes nothing.
    const again = await owner.client.request<{ cancelSampleJob: { status: string; images: unknown[] } }>(CANCEL, {
      id: next,
    });
    expect(again.data!.cancelSampleJob).toMatchObject({ status: 'SUCCEEDED' });
    expect(again.data!.cancelSampleJob.images).toHaveLength(1);
  }, 300_000);

  it('a cancel sent to another hub stops the job where it runs', async () => {
    const running = await generate(owner, { modelVersionId: slowVersionId, count: 64, steps: 1000, seed: 4 });
    await until(running, 'RUNNING');
    const res = await fetch(hubB.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: owner.client.cookies.header()! },
      body: JSON.stringify({ query: CANCEL, variables: { id: running } }),
    });
    expect(((await res.json()) as { data: { cancelSampleJob: { status: string } } }).data.cancelSampleJob.status).toBe(
      'CANCELLED',
    );
    await hubA.hub.services.sampling.scheduler.idle(); // hub A saw it at its next progress write and stopped the worker
    expect(hubA.hub.services.sampling.scheduler.timings.has(running)).toBe(false);
    const [row] = await hubA.db.select().from(sampleJobs).where(eq(sampleJobs.id, running));
    expect(row).toMatchObject({ status: 'cancelled', resultKeys: [] });
    expect(row!.stepsDone).toBeLessThan(1000);
  }, 300_000);
});
