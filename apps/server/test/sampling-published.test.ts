import { createModelSampler, samplingSpecFromConfig } from '@dapple/models/browser';
import { loadInferenceWeights, selectBackend } from '@dapple/models';
import { startTestHub, type TestHub } from './support/hub.ts';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeReadHandler } from '../src/sampling-pool/worker-io.ts';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { finishedRunWithCheckpoints } from './models-fixtures.ts';
import { ok } from './runs-fixtures.ts';
import { GENERATE, loadVersionAsTheDashboard, SAMPLE_JOB } from './sampling-fixtures.ts';

/**
 * The real path: a trainer-format checkpoint published with publishModel, then sampled by the hub's
 * worker pool and, like the dashboard does, loaded in "the browser" from modelVersion.files URLs
 * (loadModelForSampling over HTTP against the hub's signed DiskStore URLs). Both give the same pixels.
 */
let hub: TestHub;
let ann: SignedInUser;
let versionId: string;

beforeAll(async () => {
  hub = await startTestHub({ runs: { executor: false }, sampling: { workers: 1 }, logLevel: 'error' });
  ann = await signUpUser(hub, 'Ann');
  const teamId = await createTeam(ann, 'Lab', 'lab');
  const { run } = await finishedRunWithCheckpoints(hub, teamId, ann.id);
  const published = ok(
    await ann.client.request<{ publishModel: { version: { id: string } } }>(
      `mutation ($input: PublishModelInput!) { publishModel(input: $input) { version { id } } }`,
      { input: { runId: run.id, step: 40, modelName: 'published' } },
    ),
  );
  versionId = published.publishModel.version.id;
  await selectBackend({ prefer: 'wasm' });
});
afterAll(async () => {
  await hub?.close();
});

describe('sampling a version published from a training run', () => {
  it('the hub samples it, and the browser entry loads it from modelVersion.files and gets the same pixels', async () => {
    const request = { count: 2, steps: 4, sampler: 'ddim' as const, seed: 9 };
    const res = await ann.client.request<{ generateSamples: { id: string } }>(GENERATE, {
      input: { modelVersionId: versionId, ...request, sampler: 'DDIM' },
    });
    expect(res.errors).toBeUndefined();
    let job: { status: string; error: string | null; images: { url: string }[] };
    for (;;) {
      job = (await ann.client.request<{ sampleJob: typeof job }>(SAMPLE_JOB, { id: res.data!.generateSamples.id }))
        .data!.sampleJob;
      if (job.status === 'SUCCEEDED' || job.status === 'FAILED') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(job.error).toBeNull();
    const pngs = await Promise.all(job.images.map(async (i) => Buffer.from(await (await fetch(i.url)).arrayBuffer())));
    // The run trained on 1-channel images: the PNGs are greyscale.
    expect((await sharp(pngs[0]).metadata()).channels).toBe(1);
    const hubPixels = await Promise.all(pngs.map((png) => sharp(png).extractChannel(0).raw().toBuffer()));

    const browser = await loadVersionAsTheDashboard(ann, versionId);
    const local = await browser.sample(request);
    browser.dispose();
    const per = local.pixels.length / request.count;
    expect(hubPixels.map((p) => p.toString('base64'))).toEqual(
      [0, 1].map((i) => Buffer.from(local.pixels.subarray(i * per, (i + 1) * per)).toString('base64')),
    );
  }, 180_000);

  it('the worker IOHandler reads the same version from the store', async () => {
    const [row] = await hub.db.query.modelVersions.findMany({ where: (v, { eq }) => eq(v.id, versionId) });
    const read = async (key: string) => {
      const chunks: Buffer[] = [];
      for await (const c of await hub.store.get(key)) chunks.push(c as Buffer);
      return new Uint8Array(Buffer.concat(chunks));
    };
    const weights = await loadInferenceWeights(
      storeReadHandler(`${row!.objectPrefix}model.json`, { 'weights.bin': `${row!.objectPrefix}weights.bin` }, read),
    );
    const sampler = createModelSampler(
      weights,
      samplingSpecFromConfig({ ...row!.config, labelNames: row!.labelNames }),
    );
    expect(sampler.spec).toMatchObject({ unet: { resolution: row!.resolution } });
    sampler.dispose();
  });
});
