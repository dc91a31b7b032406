import { decodeShardHeader, parseManifest } from '@dapple/datasets';
import { datasetVersions } from '@dapple/db';
import { eq } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { finishedGlowRun, finishedRunWithCheckpoints } from './models-fixtures.ts';
import { ok } from './runs-fixtures.ts';
import { startTestHub, type TestHub } from './support/hub.ts';

/**
 * interpolateDatasetImages: frames between two training images of a Glow version, run as a sample job on the
 * hub's worker pool. The ends are the two dataset images at the model's bit depth; only callers who can read
 * the training dataset may ask (a share link, or a team the model is shared with, may sample but not this).
 */
const PUBLISH = `mutation ($input: PublishModelInput!) { publishModel(input: $input) { version { id modelId configJson } } }`;
const INTERPOLATE = `mutation ($input: InterpolateDatasetImagesInput!) {
  interpolateDatasetImages(input: $input) { id status params { count interpolation { datasetVersionId indexA indexB frames } } }
}`;
const JOB = `query ($id: ID!) { sampleJob(id: $id) { status error progress { fraction } images { index url } } }`;

let hub: TestHub;
let ann: SignedInUser;
let bob: SignedInUser;
let teamId: string;
let versionId: string;
let modelId: string;
let datasetVersionId: string;
let nBits: number;

beforeAll(async () => {
  hub = await startTestHub({ runs: { executor: false }, sampling: { workers: 1 }, logLevel: 'error' });
  ann = await signUpUser(hub, 'Ann');
  bob = await signUpUser(hub, 'Bob');
  teamId = await createTeam(ann, 'Lab', 'interp-lab');
  const { run, datasetVersionId: ds } = await finishedGlowRun(hub, teamId, ann.id, 10);
  datasetVersionId = ds;
  const v = ok(
    await ann.client.request<{ publishModel: { version: { id: string; modelId: string; configJson: string } } }>(
      PUBLISH,
      { input: { runId: run.id, step: 10, modelName: 'flow' } },
    ),
  ).publishModel.version;
  versionId = v.id;
  modelId = v.modelId;
  nBits = (JSON.parse(v.configJson) as { glow: { nBits: number } }).glow.nBits;
}, 120_000);
afterAll(async () => {
  await hub?.close();
});

async function finished(client: SignedInUser['client'], id: string) {
  type Job = { status: string; error: string | null; images: { index: number; url: string }[] };
  for (;;) {
    const job = ok(await client.request<{ sampleJob: Job }>(JOB, { id })).sampleJob;
    if (job.status === 'SUCCEEDED' || job.status === 'FAILED') return job;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Accepted image `index` of the dataset version, read from its shard through the shard's own header. */
async function datasetImage(index: number): Promise<Buffer> {
  const [row] = await hub.db.select().from(datasetVersions).where(eq(datasetVersions.id, datasetVersionId));
  const manifest = parseManifest(row!.manifest);
  const prefix = row!.manifestKey!.slice(0, row!.manifestKey!.lastIndexOf('/') + 1);
  let local = index;
  for (const shard of manifest.shards) {
    if (local >= shard.count) {
      local -= shard.count;
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const c of await hub.store.get(prefix + shard.name)) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    const h = decodeShardHeader(bytes, shard.name);
    const per = h.height * h.width * h.channels;
    return bytes.subarray(h.pixelsOffset + local * per, h.pixelsOffset + (local + 1) * per);
  }
  throw new Error(`no image ${index}`);
}

const bins = (pixels: Buffer) => Array.from(pixels, (v) => v >> (8 - nBits));

describe('interpolateDatasetImages', () => {
  it('runs as a sample job whose first and last frames are the two dataset images at the model’s bit depth', async () => {
    const res = ok(
      await ann.client.request<{ interpolateDatasetImages: { id: string; params: Record<string, unknown> } }>(
        INTERPOLATE,
        { input: { modelVersionId: versionId, indexA: 1, indexB: 4, steps: 5 } },
      ),
    ).interpolateDatasetImages;
    expect(res.params).toEqual({
      count: 5,
      interpolation: { datasetVersionId, indexA: 1, indexB: 4, frames: 5 },
    });
    const job = await finished(ann.client, res.id);
    expect(job.error).toBeNull();
    expect(job.images.map((i) => i.index)).toEqual([0, 1, 2, 3, 4]);
    const frames = await Promise.all(
      job.images.map(async (i) =>
        sharp(Buffer.from(await (await fetch(i.url)).arrayBuffer()))
          .extractChannel(0)
          .raw()
          .toBuffer(),
      ),
    );
    const [a, b] = [await datasetImage(1), await datasetImage(4)];
    expect(a.equals(b)).toBe(false);
    expect(bins(frames[0]!)).toEqual(bins(a));
    expect(bins(frames[4]!)).toEqual(bins(b));
    // The middle frame is neither end.
    expect(bins(frames[2]!)).not.toEqual(bins(a));
    expect(bins(frames[2]!)).not.toEqual(bins(b));
  }, 180_000);

  it('refuses bad indices and frame counts, naming the field', async () => {
    const bad = async (input: Record<string, unknown>) =>
      (
        await ann.client.request(INTERPOLATE, {
          input: { modelVersionId: versionId, indexA: 0, indexB: 1, ...input },
        })
      ).errors?.[0]?.message;
    expect(await bad({ indexA: 6 })).toMatch(
      /^indexA: the training dataset version has 6 images \(indices 0–5\), got 6/,
    );
    expect(await bad({ indexB: 99 })).toMatch(/^indexB: the training dataset version has 6 images/);
    expect(await bad({ indexA: -1 })).toMatch(/indexA: must be at least 0/);
    expect(await bad({ steps: 1 })).toMatch(/steps: must be at least 2/);
    expect(await bad({ steps: 17 })).toMatch(/steps: must be at most 16/);
  });

  it('refuses a share link and a team the model is shared with: they may sample but not read training images', async () => {
    const link = ok(
      await ann.client.request<{ createShareLink: { token: string } }>(
        `mutation ($m: ID!) { createShareLink(modelId: $m, expiresInHours: 1) { token } }`,
        { m: modelId },
      ),
    ).createShareLink.token;
    const viaLink = await bob.client.request(INTERPOLATE, {
      input: { modelVersionId: versionId, indexA: 0, indexB: 1, shareToken: link },
    });
    expect(viaLink.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(viaLink.errors?.[0]?.message).toMatch(/a share link cannot read them/);

    const partnerTeam = await createTeam(bob, 'Partner', 'interp-partner');
    ok(
      await ann.client.request(
        `mutation ($m: ID!, $t: ID!) { shareModel(input: { modelId: $m, teamId: $t, role: VIEWER }) { teamId } }`,
        { m: modelId, t: partnerTeam },
      ),
    );
    // Bob may sample the shared model…
    const sample = await bob.client.request(
      `mutation ($input: GenerateSamplesInput!) { generateSamples(input: $input) { id } }`,
      { input: { modelVersionId: versionId, count: 1 } },
    );
    expect(sample.errors).toBeUndefined();
    // …but not see its training images.
    const shared = await bob.client.request(INTERPOLATE, {
      input: { modelVersionId: versionId, indexA: 0, indexB: 1 },
    });
    expect(shared.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(shared.errors?.[0]?.message).toMatch(/you cannot read that dataset/);
  });

  it('refuses a DDPM version, naming modelVersionId', async () => {
    const { run } = await finishedRunWithCheckpoints(hub, teamId, ann.id, [20]);
    const ddpm = ok(
      await ann.client.request<{ publishModel: { version: { id: string } } }>(PUBLISH, {
        input: { runId: run.id, step: 20, modelName: 'unet' },
      }),
    ).publishModel.version.id;
    const res = await ann.client.request(INTERPOLATE, { input: { modelVersionId: ddpm, indexA: 0, indexB: 1 } });
    expect(res.errors?.[0]?.message).toMatch(/^modelVersionId: only Glow model versions can interpolate/);
    expect(res.errors?.[0]?.extensions?.['field']).toBe('modelVersionId');
  });
});
