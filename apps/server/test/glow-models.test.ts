import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@dapple/models';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluations } from '@dapple/db';
import { errorCode, gqlClient } from '@dapple/testing';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { finishedGlowRun, finishedRunWithCheckpoints } from './models-fixtures.ts';
import { ok, readyDatasetVersion, START_RUN, tinyGlowConfig } from './runs-fixtures.ts';
import { loadVersionAsTheDashboard, SAMPLE_JOB } from './sampling-fixtures.ts';
import { startTestHub, type TestHub } from './support/hub.ts';

/**
 * A Glow version through the hub like a DDPM one: publish (inference weights of the flow, a card that says
 * Glow and shows bits/dim), sample on the hub's worker pool at a temperature (the same pixels as the browser
 * entry), export, fine-tune, evaluate — all through GraphQL; and a Glow and a DDPM run set side by side on KID
 * through the versions published from each run.
 */
const PUBLISH = `mutation ($input: PublishModelInput!) { publishModel(input: $input) { version { id architecture predictionType configJson modelCard resolution channels } } }`;
const GENERATE = `mutation ($input: GenerateSamplesInput!) { generateSamples(input: $input) { id params { count seed temperature } } }`;
const EXPORT = `mutation ($id: ID!) { exportModelVersion(id: $id) { url sizeBytes } }`;

let hub: TestHub;
let ann: SignedInUser;
let teamId: string;
let versionId: string;
let runDataset: string;
let glowRunId: string;

beforeAll(async () => {
  hub = await startTestHub({ runs: { executor: false }, sampling: { workers: 1 }, logLevel: 'error' });
  ann = await signUpUser(hub, 'Ann');
  teamId = await createTeam(ann, 'Lab', 'glow-lab');
  const { run, datasetVersionId } = await finishedGlowRun(hub, teamId, ann.id, 10);
  runDataset = datasetVersionId;
  glowRunId = run.id;
  const v = ok(
    await ann.client.request<{ publishModel: { version: Record<string, unknown> } }>(PUBLISH, {
      input: { runId: run.id, step: 10, modelName: 'flow' },
    }),
  ).publishModel.version;
  versionId = v['id'] as string;
  expect(v).toMatchObject({ architecture: 'GLOW', predictionType: null, resolution: 8, channels: 1 });
  expect(JSON.parse(v['configJson'] as string)).toMatchObject({
    architecture: 'glow',
    glow: { resolution: 8, channels: 1, levels: 2, depth: 2, hiddenChannels: 16 },
    weights: 'ema',
    heldOut: { images: 3 },
  });
  expect(v['modelCard']).toMatch(/Architecture: Glow \(normalizing flow/);
  expect(v['modelCard']).toMatch(/Bits\/dim: held-out 5\.500, train 5\.250/);
  await selectBackend({ prefer: 'wasm' });
});
afterAll(async () => {
  await hub?.close();
});

async function finished(id: string) {
  let job: { status: string; error: string | null; images: { url: string }[] };
  for (;;) {
    job = (await ann.client.request<{ sampleJob: typeof job }>(SAMPLE_JOB, { id })).data!.sampleJob;
    if (job.status === 'SUCCEEDED' || job.status === 'FAILED') return job;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a published Glow version', () => {
  it('is sampled on the hub at a temperature, with the pixels the browser entry gets from its files', async () => {
    const res = ok(
      await ann.client.request<{ generateSamples: { id: string; params: Record<string, unknown> } }>(GENERATE, {
        input: { modelVersionId: versionId, count: 3, seed: 4, temperature: 0.5 },
      }),
    ).generateSamples;
    expect(res.params).toEqual({ count: 3, seed: 4, temperature: 0.5 });
    const job = await finished(res.id);
    expect(job.error).toBeNull();
    const pngs = await Promise.all(job.images.map(async (i) => Buffer.from(await (await fetch(i.url)).arrayBuffer())));
    const hubPixels = await Promise.all(pngs.map((png) => sharp(png).extractChannel(0).raw().toBuffer()));

    const browser = await loadVersionAsTheDashboard(ann, versionId);
    expect(browser.spec.architecture).toBe('glow');
    const local = await browser.sample({ count: 3, steps: 1, sampler: 'ddim', seed: 4, temperature: 0.5 });
    const hotter = await browser.sample({ count: 3, steps: 1, sampler: 'ddim', seed: 4, temperature: 1 });
    browser.dispose();
    const per = local.pixels.length / 3;
    expect(hubPixels.map((p) => p.toString('base64'))).toEqual(
      [0, 1, 2].map((i) => Buffer.from(local.pixels.subarray(i * per, (i + 1) * per)).toString('base64')),
    );
    // The temperature is applied: T = 1 draws other images from the same seed.
    expect(Buffer.from(hotter.pixels).equals(Buffer.from(local.pixels))).toBe(false);
  }, 180_000);

  it('refuses diffusion-only sampling settings and a temperature out of range, naming the field', async () => {
    const bad = async (input: Record<string, unknown>) =>
      (await ann.client.request(GENERATE, { input: { modelVersionId: versionId, count: 1, ...input } })).errors?.[0]
        ?.message;
    expect(await bad({ guidance: 2 })).toMatch(/^guidance: a Glow model has no classifier-free guidance/);
    expect(await bad({ temperature: 3 })).toMatch(/temperature: must be at most 2/);
    expect(await bad({ label: 'cat' })).toMatch(/^label: this model is unconditional/);
  });

  it('exports a zip with the flow’s weights, config and card', async () => {
    const res = ok(
      await ann.client.request<{ exportModelVersion: { url: string; sizeBytes: number } }>(EXPORT, { id: versionId }),
    ).exportModelVersion;
    const zip = Buffer.from(await (await fetch(res.url)).arrayBuffer());
    expect(zip.length).toBe(res.sizeBytes);
    const dir = await mkdtemp(join(tmpdir(), 'dapple-glow-export-'));
    try {
      await writeFile(join(dir, 'v.zip'), zip);
      execFileSync('unzip', ['-q', 'v.zip', '-d', 'out'], { cwd: dir });
      const listing = execFileSync('unzip', ['-Z1', 'v.zip'], { cwd: dir }).toString().trim().split('\n').sort();
      expect(listing).toEqual(expect.arrayContaining(['MODEL_CARD.md', 'config.json', 'model.json', 'weights.bin']));
      const card = execFileSync('unzip', ['-p', 'v.zip', 'MODEL_CARD.md'], { cwd: dir }).toString();
      expect(card).toMatch(/Glow/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fine-tunes only as a Glow of the same flow; a DDPM config on it is refused naming architecture', async () => {
    const glowStart = await ann.client.request<{ startRun: { id: string } }>(START_RUN, {
      input: {
        datasetVersionId: runDataset,
        name: 'ft',
        config: tinyGlowConfig({ conditioning: 'NONE' }),
        fromModelVersionId: versionId,
      },
    });
    expect(glowStart.errors).toBeUndefined();
    const wider = await ann.client.request(START_RUN, {
      input: {
        datasetVersionId: runDataset,
        name: 'ft-wide',
        config: tinyGlowConfig({ model: { resolution: 8, levels: 2, depth: 2, hiddenChannels: 32 } }),
        fromModelVersionId: versionId,
      },
    });
    expect(wider.errors?.[0]?.message).toMatch(/hiddenChannels 32 \(base 16\)/);
    const ddpm = await ann.client.request(START_RUN, {
      input: {
        datasetVersionId: runDataset,
        name: 'ft-ddpm',
        config: { preset: 'TINY', model: { resolution: 8, baseChannels: 8, groups: 4 }, steps: 2 },
        fromModelVersionId: versionId,
      },
    });
    expect(ddpm.errors?.[0]?.message).toMatch(/base model "flow" v1 is a glow model/);
  });

  it('startRun validates Glow configs through GraphQL, naming the field', async () => {
    const { versionId: ds } = await readyDatasetVersion(hub, teamId, { n: 8, resolution: 8 });
    const err = async (config: Record<string, unknown>) =>
      (await ann.client.request(START_RUN, { input: { datasetVersionId: ds, name: 'x', config } })).errors?.[0]
        ?.message;
    expect(await err(tinyGlowConfig({ timesteps: 100 }))).toMatch(/timesteps: is a DDPM setting/);
    expect(await err(tinyGlowConfig({ model: { resolution: 8, levels: 4 } }))).toMatch(
      /model\.resolution: \(8\) must be divisible by 2\^levels = 16/,
    );
    expect(await err(tinyGlowConfig({ model: { resolution: 16 } }))).toMatch(
      /config\.model\.resolution: the flow trains on 16×16 images but dataset/,
    );
    // ModelOverridesInput holds both families' fields: the UNet's schema refuses the flow's.
    expect(await err({ preset: 'TINY', model: { depth: 2 } })).toMatch(/config\.model.*depth/);
  });

  it('a DDPM version still publishes as DDPM', async () => {
    const { run } = await finishedRunWithCheckpoints(hub, teamId, ann.id, [20]);
    const v = ok(
      await ann.client.request<{ publishModel: { version: Record<string, unknown> } }>(PUBLISH, {
        input: { runId: run.id, step: 20, modelName: 'unet' },
      }),
    ).publishModel.version;
    expect(v).toMatchObject({ architecture: 'DDPM', predictionType: 'eps' });
    expect(v['modelCard']).toMatch(/Architecture: DDPM/);
  });
});

describe('a Glow and a DDPM run side by side on KID', () => {
  const RUN_EVALUATIONS = `query ($id: ID!) { run(id: $id) { name publishedVersions { modelName }
    publishedModelVersions { id number step architecture model { name }
      evaluations(status: SUCCEEDED) { kid { mean std } fid numSamples comparableKey } } } }`;
  type RunEvaluations = {
    run: {
      name: string;
      publishedVersions: { modelName: string }[];
      publishedModelVersions: {
        id: string;
        number: number;
        step: number;
        architecture: string;
        model: { name: string };
        evaluations: { kid: { mean: number; std: number } | null; fid: number | null; comparableKey: string }[];
      }[];
    };
  };
  const EVALUATE = `mutation ($input: EvaluateModelInput!) { evaluateModel(input: $input) { id } }`;
  const EVALUATION = `query ($id: ID!) { evaluation(id: $id) { status error } }`;

  /** Evaluates a version against a reference dataset version with the smallest settings the API allows. */
  async function evaluated(modelVersionId: string, datasetVersionId: string): Promise<void> {
    const { id } = ok(
      await ann.client.request<{ evaluateModel: { id: string } }>(EVALUATE, {
        input: { modelVersionId, datasetVersionId, numSamples: 10, extractor: 'OFFLINE', steps: 2 },
      }),
    ).evaluateModel;
    for (;;) {
      const e = ok(
        await ann.client.request<{ evaluation: { status: string; error: string | null } }>(EVALUATION, { id }),
      ).evaluation;
      if (e.status === 'FAILED') throw new Error(`evaluation failed: ${e.error}`);
      if (e.status === 'SUCCEEDED') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('each run lists the versions published from it with their finished evaluations, comparable by comparableKey', async () => {
    // A DDPM run on the Glow run's dataset version, published and evaluated like the Glow version.
    const { run: ddpmRun } = await finishedRunWithCheckpoints(hub, teamId, ann.id, [20], {
      dataset: { versionId: runDataset, resolution: 8, channels: 1 },
      name: 'ddpm-kid',
    });
    const ddpmVersionId = ok(
      await ann.client.request<{ publishModel: { version: { id: string } } }>(PUBLISH, {
        input: { runId: ddpmRun.id, step: 20, modelName: 'unet-kid' },
      }),
    ).publishModel.version.id;
    // The run's dataset dedupes to 6 images; evaluations need at least 10 real ones: 12 grey noise images.
    const noise = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => ({
        path: `noise-${i}.png`,
        bytes: await sharp({
          create: {
            width: 8,
            height: 8,
            channels: 3,
            background: '#808080',
            noise: { type: 'gaussian', mean: 128, sigma: 50 },
          },
        })
          .png()
          .toBuffer(),
      })),
    );
    const { versionId: reference } = await readyDatasetVersion(hub, teamId, {
      resolution: 8,
      channels: 1,
      images: noise,
    });
    await evaluated(versionId, reference);
    await evaluated(ddpmVersionId, reference);
    // A failed evaluation has no numbers: `status: SUCCEEDED` leaves it out.
    await hub.db.insert(evaluations).values({
      modelVersionId: ddpmVersionId,
      teamId,
      numSamples: 10,
      extractor: 'offline',
      status: 'failed',
      error: 'worker lost',
    });

    const glow = ok(await ann.client.request<RunEvaluations>(RUN_EVALUATIONS, { id: glowRunId })).run;
    const ddpm = ok(await ann.client.request<RunEvaluations>(RUN_EVALUATIONS, { id: ddpmRun.id })).run;
    expect(glow.publishedModelVersions).toMatchObject([
      { id: versionId, number: 1, step: 10, architecture: 'GLOW', model: { name: 'flow' } },
    ]);
    expect(ddpm.publishedModelVersions).toMatchObject([
      { id: ddpmVersionId, number: 1, step: 20, architecture: 'DDPM', model: { name: 'unet-kid' } },
    ]);
    const [glowEval] = glow.publishedModelVersions[0]!.evaluations;
    const [ddpmEval] = ddpm.publishedModelVersions[0]!.evaluations;
    expect(glow.publishedModelVersions[0]!.evaluations).toHaveLength(1);
    expect(ddpm.publishedModelVersions[0]!.evaluations).toHaveLength(1);
    expect(glowEval!.kid!.mean).toEqual(expect.any(Number));
    expect(ddpmEval!.kid!.mean).toEqual(expect.any(Number));
    expect(glowEval!.fid).toBeGreaterThan(0);
    // Same extractor, count, reference data and settings: the two numbers may sit side by side.
    expect(glowEval!.comparableKey).toBe(ddpmEval!.comparableKey);
    const all = ok(
      await ann.client.request<{ modelVersion: { evaluations: { status: string }[] } }>(
        `query ($id: ID!) { modelVersion(id: $id) { evaluations { status } } }`,
        { id: ddpmVersionId },
      ),
    ).modelVersion.evaluations;
    expect(all.map((e) => e.status).sort()).toEqual(['FAILED', 'SUCCEEDED']);
    expect(glowEval!.comparableKey).toMatch(/^offline:.*\|n=10\|data=[0-9a-f]{64}\|sampler=dpmpp-2m-sde\|steps=2\|/);
  }, 300_000);

  it('shows only what the viewer may read: another team gets NOT_FOUND, a team viewer no private model, a share link no evaluations', async () => {
    const eve = await signUpUser(hub, 'Eve');
    await createTeam(eve, 'Other', 'glow-other');
    expect(errorCode(await eve.client.request(RUN_EVALUATIONS, { id: glowRunId }))).toBe('NOT_FOUND');

    const vic = await signUpUser(hub, 'Vic');
    await addMember(ann, teamId, vic, 'VIEWER');
    const seen = async () =>
      ok(await vic.client.request<RunEvaluations>(RUN_EVALUATIONS, { id: glowRunId })).run.publishedModelVersions;
    expect((await seen()).map((v) => v.id)).toEqual([versionId]);
    const modelId = ok(
      await ann.client.request<{ modelVersion: { modelId: string } }>(
        `query ($id: ID!) { modelVersion(id: $id) { modelId } }`,
        { id: versionId },
      ),
    ).modelVersion.modelId;
    const setVisibility = (visibility: string) =>
      ann.client.request(`mutation ($input: UpdateModelInput!) { updateModel(input: $input) { id } }`, {
        input: { id: modelId, visibility },
      });
    ok(await setVisibility('PRIVATE'));
    try {
      // The team viewer still reads the run, but not the private model's version, nor its evaluations.
      expect(await seen()).toEqual([]);
      expect(
        ok(await ann.client.request<RunEvaluations>(RUN_EVALUATIONS, { id: glowRunId })).run.publishedModelVersions,
      ).toHaveLength(1);
    } finally {
      ok(await setVisibility('TEAM'));
    }

    const token = ok(
      await ann.client.request<{ createShareLink: { token: string } }>(
        `mutation ($m: ID!) { createShareLink(modelId: $m, expiresInHours: 1) { token } }`,
        { m: modelId },
      ),
    ).createShareLink.token;
    const viaLink = await gqlClient(hub.graphqlUrl).request(
      `query ($id: ID!, $t: String) { modelVersion(id: $id, shareToken: $t) { id evaluations { id } } }`,
      { id: versionId, t: token },
    );
    expect(errorCode(viaLink)).toBe('FORBIDDEN');
  });
});
