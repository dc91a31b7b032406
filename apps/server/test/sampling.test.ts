import { sampleJobs, shareLinks } from '@dapple/db';
import { DEFAULT_CLASS_GUIDANCE } from '@dapple/models/config';
import { errorCode, gqlClient } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { eq } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/services/auth/secrets.ts';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { GENERATE, publishTinyVersion, SAMPLE_JOB, tinyUNet } from './sampling-fixtures.ts';

let hub: TestHub;
let ann: SignedInUser;
let vic: SignedInUser;
let eve: SignedInUser;
let teamId: string;
let uncond: string;
let cond: string;
let condModelId: string;

beforeAll(async () => {
  hub = await startTestHub({
    runs: { executor: false },
    sampling: { workers: 1, perTeamConcurrency: 1, shareLinkQuota: { maxActiveJobs: 2, maxJobsPerHour: 4 } },
  });
  ann = await signUpUser(hub, 'Ann');
  vic = await signUpUser(hub, 'Vic');
  eve = await signUpUser(hub, 'Eve');
  teamId = await createTeam(ann, 'Lab', 'lab');
  await addMember(ann, teamId, vic, 'VIEWER');
  uncond = (await publishTinyVersion(hub, teamId, ann.id)).version.id;
  const c = await publishTinyVersion(hub, teamId, ann.id, {
    unet: tinyUNet({ numClasses: 2 }),
    labelNames: ['cat', 'dog'],
  });
  cond = c.version.id;
  condModelId = c.modelId;
});
afterAll(async () => {
  await hub?.close();
});

type Job = {
  id: string;
  status: string;
  error: string | null;
  queuePosition: number | null;
  progress: { stepsDone: number; stepsTotal: number; fraction: number };
  images: { index: number; url: string }[];
  params: { seed: number };
};

async function generate(user: { client: ReturnType<typeof gqlClient> }, input: Record<string, unknown>) {
  return user.client.request<{
    generateSamples: { id: string; status: string; queuePosition: number | null; params: Record<string, unknown> };
  }>(GENERATE, { input });
}

async function waitDone(client: ReturnType<typeof gqlClient>, id: string, shareToken?: string): Promise<Job> {
  for (;;) {
    const res = await client.request<{ sampleJob: Job }>(SAMPLE_JOB, { id, shareToken });
    expect(res.errors).toBeUndefined();
    const job = res.data!.sampleJob;
    if (job.status === 'SUCCEEDED' || job.status === 'FAILED') return job;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe('generateSamples end to end (worker thread, DiskStore, HTTP)', () => {
  it('a viewer samples PNGs; the same seed and settings give identical bytes, another seed does not', async () => {
    const input = { modelVersionId: cond, count: 3, steps: 6, sampler: 'DDIM', seed: 42, label: 'dog', guidance: 2 };
    const first = await generate(vic, input);
    expect(first.errors).toBeUndefined();
    expect(first.data!.generateSamples.params).toMatchObject({
      count: 3,
      steps: 6,
      sampler: 'DDIM',
      eta: 0,
      seed: 42,
      guidance: 2,
      label: 'dog',
      labelId: 1,
    });
    const a = await waitDone(vic.client, first.data!.generateSamples.id);
    expect(a.error).toBeNull();
    expect(a.status).toBe('SUCCEEDED');
    expect(a.progress).toEqual({ stepsDone: 6, stepsTotal: 6, fraction: 1 });
    expect(a.images.map((i) => i.index)).toEqual([0, 1, 2]);
    const pngsA = await Promise.all(a.images.map((i) => download(i.url)));
    const meta = await sharp(pngsA[0]).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 8, 8, 3]);
    // Three different images (one noise stream per image).
    expect(new Set(pngsA.map((p) => p.toString('base64'))).size).toBe(3);

    const again = await waitDone(vic.client, (await generate(vic, input)).data!.generateSamples.id);
    const pngsB = await Promise.all(again.images.map((i) => download(i.url)));
    expect(pngsB.map((p) => p.toString('base64'))).toEqual(pngsA.map((p) => p.toString('base64')));

    const other = await waitDone(vic.client, (await generate(vic, { ...input, seed: 43 })).data!.generateSamples.id);
    const pngsC = await Promise.all(other.images.map((i) => download(i.url)));
    expect(pngsC[0]!.equals(pngsA[0]!)).toBe(false);

    // A label without a scale is guided as the run grids are (DEFAULT_CLASS_GUIDANCE): the same images as asking
    // for 3, and params say so.
    const { guidance: _, ...unscaled } = input;
    const byDefault = await generate(vic, unscaled);
    expect(byDefault.data!.generateSamples.params.guidance).toBe(DEFAULT_CLASS_GUIDANCE);
    const defaulted = await waitDone(vic.client, byDefault.data!.generateSamples.id);
    const explicit = await waitDone(
      vic.client,
      (await generate(vic, { ...input, guidance: DEFAULT_CLASS_GUIDANCE })).data!.generateSamples.id,
    );
    const [pngD, pngE] = await Promise.all([download(defaulted.images[0]!.url), download(explicit.images[0]!.url)]);
    expect(pngD.equals(pngE)).toBe(true);
    expect(pngD.equals(pngsA[0]!)).toBe(false); // guidance 2 drew something else

    // The PNGs live under the version's prefix (so deleting the version frees them).
    const [row] = await hub.db.select().from(sampleJobs).where(eq(sampleJobs.id, a.id));
    expect(row!.resultKeys[0]).toMatch(new RegExp(`^models/${condModelId}/v1/samples/${a.id}/000\\.png$`));
  }, 120_000);

  it('DDPM on an unconditional model with a random seed returned in params', async () => {
    const res = await generate(ann, { modelVersionId: uncond, count: 2, steps: 4, sampler: 'DDPM' });
    expect(res.errors).toBeUndefined();
    const job = await waitDone(ann.client, res.data!.generateSamples.id);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.images).toHaveLength(2);
    expect(Number.isInteger(job.params.seed)).toBe(true);
    expect(res.data!.generateSamples.params.guidance).toBeNull(); // no label, nothing to guide towards
  }, 120_000);
});

describe('validation names the field, nothing is queued', () => {
  it.each([
    ['count above 64', { modelVersionId: 'U', count: 65 }, 'count', /at most 64/],
    ['count 0', { modelVersionId: 'U', count: 0 }, 'count', /at least 1/],
    [
      "steps above the model's timesteps",
      { modelVersionId: 'U', count: 1, steps: 101 },
      'steps',
      /steps must be an integer in \[1, 100\]/,
    ],
    ['steps 0', { modelVersionId: 'U', count: 1, steps: 0 }, 'steps', /at least 1/],
    ['eta above 1', { modelVersionId: 'U', count: 1, eta: 1.5 }, 'eta', /at most 1/],
    ['a label on an unconditional model', { modelVersionId: 'U', count: 1, label: 'cat' }, 'label', /unconditional/],
    ['guidance on an unconditional model', { modelVersionId: 'U', count: 1, guidance: 3 }, 'guidance', /unconditional/],
    [
      "a label outside the model's labels",
      { modelVersionId: 'C', count: 1, label: 'bird' },
      'label',
      /"bird" is not one of the model's labels \(cat, dog\)/,
    ],
    ['guidance without a label', { modelVersionId: 'C', count: 1, guidance: 3 }, 'guidance', /needs a label/],
  ])('refuses %s', async (_what, input, field, message) => {
    const before = (await hub.db.select({ id: sampleJobs.id }).from(sampleJobs)).length;
    const res = await generate(ann, { ...input, modelVersionId: input.modelVersionId === 'U' ? uncond : cond });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe(field);
    expect(res.errors?.[0]?.message).toMatch(message);
    expect((await hub.db.select({ id: sampleJobs.id }).from(sampleJobs)).length).toBe(before);
  });
});

describe('access', () => {
  it('an outsider cannot sample or read jobs (the model is not revealed), anonymous callers must sign in', async () => {
    const res = await generate(eve, { modelVersionId: uncond, count: 1 });
    expect(errorCode(res)).toBe('NOT_FOUND');
    const job = (await generate(vic, { modelVersionId: uncond, count: 1, steps: 2 })).data!.generateSamples.id;
    expect(errorCode(await eve.client.request(SAMPLE_JOB, { id: job }))).toBe('NOT_FOUND');
    const anon = gqlClient(hub.graphqlUrl);
    expect(errorCode(await generate({ client: anon }, { modelVersionId: uncond, count: 1 }))).toBe('UNAUTHENTICATED');
    await waitDone(vic.client, job);
  }, 120_000);

  it('on a public model anyone signed in may sample, but sees only their own jobs (the team sees all)', async () => {
    const pub = (await publishTinyVersion(hub, teamId, ann.id, { visibility: 'public' })).version.id;
    const zed = await signUpUser(hub, 'Zed');
    const res = await generate(eve, { modelVersionId: pub, count: 1, steps: 2 });
    expect(res.errors).toBeUndefined();
    const id = res.data!.generateSamples.id;
    expect(errorCode(await zed.client.request(SAMPLE_JOB, { id }))).toBe('NOT_FOUND');
    expect((await vic.client.request<{ sampleJob: Job }>(SAMPLE_JOB, { id })).errors).toBeUndefined();
    expect((await waitDone(eve.client, id)).status).toBe('SUCCEEDED');
  }, 120_000);

  it('a share link samples its one model, sees only its own jobs, and stops working when revoked', async () => {
    const token = `dpl_share_${'x'.repeat(40)}`;
    const [link] = await hub.db
      .insert(shareLinks)
      .values({
        modelId: condModelId,
        tokenHash: sha256Hex(token),
        prefix: token.slice(0, 14),
        expiresAt: new Date(Date.now() + 3_600_000),
        createdBy: ann.id,
      })
      .returning();
    const anon = { client: gqlClient(hub.graphqlUrl) };
    const res = await generate(anon, { modelVersionId: cond, count: 1, steps: 3, seed: 1, shareToken: token });
    expect(res.errors).toBeUndefined();
    const job = await waitDone(anon.client, res.data!.generateSamples.id, token);
    expect(job.status).toBe('SUCCEEDED');
    expect((await download(job.images[0]!.url)).subarray(1, 4).toString()).toBe('PNG');
    const [row] = await hub.db.select().from(sampleJobs).where(eq(sampleJobs.id, job.id));
    expect([row!.shareLinkId, row!.requestedBy, row!.teamId]).toEqual([link!.id, null, teamId]);

    // Not the other model, not other people's jobs.
    expect(errorCode(await generate(anon, { modelVersionId: uncond, count: 1, shareToken: token }))).toBe('NOT_FOUND');
    const vicJob = (await generate(vic, { modelVersionId: cond, count: 1, steps: 2 })).data!.generateSamples.id;
    expect(errorCode(await anon.client.request(SAMPLE_JOB, { id: vicJob, shareToken: token }))).toBe('NOT_FOUND');

    await hub.db.update(shareLinks).set({ revokedAt: new Date() }).where(eq(shareLinks.id, link!.id));
    const revoked = await generate(anon, { modelVersionId: cond, count: 1, shareToken: token });
    expect(errorCode(revoked)).toBe('FORBIDDEN');
    expect(revoked.errors?.[0]?.message).toMatch(/revoked/);
    await waitDone(vic.client, vicJob);
  }, 120_000);

  it('mySampleJobs lists the caller’s own jobs on a version, newest first, never others’ or a share link’s', async () => {
    const { version } = await publishTinyVersion(hub, teamId, ann.id);
    const ids: string[] = [];
    for (const seed of [1, 2, 3]) {
      const res = await generate(vic, { modelVersionId: version.id, count: 1, steps: 2, seed });
      expect(res.errors).toBeUndefined();
      ids.push(res.data!.generateSamples.id);
    }
    const annJob = (await generate(ann, { modelVersionId: version.id, count: 1, steps: 2, seed: 9 })).data!
      .generateSamples.id;
    for (const id of [...ids, annJob]) await waitDone(ann.client, id);
    const MINE = `query ($id: ID!, $first: Int) { modelVersion(id: $id) { mySampleJobs(first: $first) { id status params { seed } images { url } } } }`;
    type Mine = {
      modelVersion: { mySampleJobs: { id: string; status: string; params: { seed: number }; images: unknown[] }[] };
    };
    const vics = await vic.client.request<Mine>(MINE, { id: version.id });
    expect(vics.errors).toBeUndefined();
    expect(vics.data!.modelVersion.mySampleJobs.map((j) => [j.id, j.status, j.params.seed, j.images.length])).toEqual([
      [ids[2], 'SUCCEEDED', 3, 1],
      [ids[1], 'SUCCEEDED', 2, 1],
      [ids[0], 'SUCCEEDED', 1, 1],
    ]);
    const two = await vic.client.request<Mine>(MINE, { id: version.id, first: 2 });
    expect(two.data!.modelVersion.mySampleJobs.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    const anns = await ann.client.request<Mine>(MINE, { id: version.id });
    expect(anns.data!.modelVersion.mySampleJobs.map((j) => j.id)).toEqual([annJob]);
    const bad = await vic.client.request<Mine>(MINE, { id: version.id, first: 0 });
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toBe('first: must be a whole number from 1 to 50');
    // Outsiders do not learn that the version exists.
    expect(errorCode(await eve.client.request(MINE, { id: version.id }))).toBe('NOT_FOUND');
  }, 120_000);

  it('a share link has a quota of its own: jobs at once and per hour, refused with the limit named', async () => {
    const token = `dpl_share_${'q'.repeat(40)}`;
    await hub.db.insert(shareLinks).values({
      modelId: condModelId,
      tokenHash: sha256Hex(token),
      prefix: token.slice(0, 14),
      expiresAt: new Date(Date.now() + 3_600_000),
      createdBy: ann.id,
    });
    const anon = { client: gqlClient(hub.graphqlUrl) };
    const ask = () => generate(anon, { modelVersionId: cond, count: 64, steps: 100, shareToken: token });
    // Two long jobs at once (maxActiveJobs 2), all at the same moment: the lock lets exactly two in.
    const burst = await Promise.all([ask(), ask(), ask(), ask()]);
    const accepted = burst.filter((r) => !r.errors).map((r) => r.data!.generateSamples.id);
    expect(accepted, JSON.stringify(burst.map((r) => r.errors))).toHaveLength(2);
    const refused = burst.find((r) => r.errors)!;
    expect(errorCode(refused)).toBe('RATE_LIMITED');
    expect(refused.errors?.[0]?.message).toMatch(/limit is 2 at once \(DAPPLE_SHARE_LINK_MAX_ACTIVE_JOBS\)/);
    expect(refused.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    // The team itself is not held up by the link: a member still gets a job in.
    const member = await generate(vic, { modelVersionId: cond, count: 1, steps: 2 });
    expect(member.errors).toBeUndefined();

    // Finished jobs free the "at once" quota, but each still counts for the hour (maxJobsPerHour 4).
    for (const id of accepted) {
      const cancel = await anon.client.request(
        `mutation ($id: ID!, $t: String) { cancelSampleJob(id: $id, shareToken: $t) { id } }`,
        { id, t: token },
      );
      expect(cancel.errors).toBeUndefined();
      for (;;) {
        const res = await anon.client.request<{ sampleJob: Job }>(SAMPLE_JOB, { id, shareToken: token });
        if (!['QUEUED', 'RUNNING'].includes(res.data!.sampleJob.status)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const third = await generate(anon, { modelVersionId: cond, count: 1, steps: 2, shareToken: token });
    expect(third.errors).toBeUndefined();
    await waitDone(anon.client, third.data!.generateSamples.id, token);
    const fourth = await generate(anon, { modelVersionId: cond, count: 1, steps: 2, shareToken: token });
    expect(fourth.errors).toBeUndefined();
    await waitDone(anon.client, fourth.data!.generateSamples.id, token);
    const fifth = await generate(anon, { modelVersionId: cond, count: 1, steps: 2, shareToken: token });
    expect(errorCode(fifth)).toBe('RATE_LIMITED');
    expect(fifth.errors?.[0]?.message).toMatch(/started 4 sample jobs in the last hour, its limit is 4 per hour/);
    expect(fifth.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(3000);
    await waitDone(vic.client, member.data!.generateSamples.id);
  }, 180_000);
});
