import { randomUUID } from 'node:crypto';
import { sampleJobs } from '@dapple/db';
import { createTestDatabase, type TestDatabase } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubPresence } from '../src/sampling-pool/hub-presence.ts';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { publishTinyVersion, SAMPLE_JOB } from './sampling-fixtures.ts';

/**
 * Sample jobs live in their hub's memory: when that hub dies (kill -9, a crash) its rows stay
 * queued/running. A live hub notices the dead hub's presence lock is gone and runs them itself.
 */
let db: TestDatabase;
let hub: TestHub;
let pool: pg.Pool;
let owner: SignedInUser;
let teamId: string;
let versionId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  hub = await startTestHub({
    databaseUrl: db.connectionString,
    runs: { executor: false },
    sampling: { adoptIntervalMs: 250 },
  });
  pool = new pg.Pool({ connectionString: db.connectionString, max: 2 });
  owner = await signUpUser(hub, 'Olga');
  teamId = await createTeam(owner, 'Models', 'models');
  versionId = (await publishTinyVersion(hub, teamId, owner.id)).version.id;
});
afterAll(async () => {
  await hub?.close();
  await pool?.end();
  await db?.drop();
});

/** A job row as generateSamples writes it, owned by `hubId`. */
async function orphanedJob(hubId: string, status: 'queued' | 'running', seed: number) {
  const [job] = await hub.db
    .insert(sampleJobs)
    .values({
      modelVersionId: versionId,
      teamId,
      requestedBy: owner.id,
      params: { count: 2, steps: 3, sampler: 'ddim', eta: 0, seed, guidance: null, label: null, labelId: null },
      status,
      stepsDone: status === 'running' ? 2 : 0,
      stepsTotal: 3,
      hubId,
      ...(status === 'running' ? { startedAt: new Date() } : {}),
    })
    .returning();
  return job!;
}

async function waitForStatus(id: string, status: string) {
  for (let i = 0; i < 600; i++) {
    const res = await owner.client.request<{
      sampleJob: { status: string; error: string | null; images: { url: string }[] };
    }>(SAMPLE_JOB, { id });
    expect(res.errors).toBeUndefined();
    const job = res.data!.sampleJob;
    if (job.status === status) return job;
    if (job.status === 'FAILED' && status !== 'FAILED') throw new Error(`job failed: ${job.error}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`sample job ${id} never reached ${status}`);
}

describe('sample jobs of a hub that died', () => {
  it('are restarted by a live hub, while jobs of a hub that is alive are left to it', async () => {
    const otherHub = new HubPresence(pool);
    await otherHub.start();
    const ofDeadHub = await orphanedJob(randomUUID(), 'running', 1);
    const ofUnknownHub = await orphanedJob(randomUUID(), 'queued', 2);
    await hub.db.update(sampleJobs).set({ hubId: null }).where(eq(sampleJobs.id, ofUnknownHub.id)); // written before hubs were tracked
    const ofLiveHub = await orphanedJob(otherHub.id, 'queued', 3);

    for (const job of [ofDeadHub, ofUnknownHub]) {
      const done = await waitForStatus(job.id, 'SUCCEEDED');
      expect(done.images).toHaveLength(2);
      const [row] = await hub.db.select().from(sampleJobs).where(eq(sampleJobs.id, job.id));
      expect(row!.resultKeys).toHaveLength(2);
      expect(row!.hubId).not.toBe(job.hubId);
    }
    // Several adoption rounds have passed: the live hub's job is still its own.
    expect(await hub.hub.services.sampling.adoptOrphans()).toBe(0);
    const [stillQueued] = await hub.db.select().from(sampleJobs).where(eq(sampleJobs.id, ofLiveHub.id));
    expect(stillQueued).toMatchObject({ status: 'queued', hubId: otherHub.id });

    // That hub's connection goes away as it would when its process is killed: its job is adopted too.
    await otherHub.close();
    await waitForStatus(ofLiveHub.id, 'SUCCEEDED');
  });
});
