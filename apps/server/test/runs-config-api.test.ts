import { errorCode } from '@dapple/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { twoClassImages } from './runs-class-fixtures.ts';
import { ok, readyDatasetVersion, START_RUN, tinyConfig } from './runs-fixtures.ts';

// The run config through real GraphQL: enums both ways, presets that take the dataset's shape, runPresets' defaults.
// No executor: only what startRun validates and stores.
let hub: TestHub;
let ann: SignedInUser;
let eve: SignedInUser;
let grey12: string;
let labelled8: string;

const CONFIG = `query ($id: ID!) { run(id: $id) { config {
  preset optimizer schedule prediction lrDecay sampleSampler conditioning numClasses steps batchSize
  model { resolution } json
} } }`;
const PRESETS = `query ($v: ID) { runPresets(datasetVersionId: $v) {
  architecture preset description resolution channels parameters error
  defaults { preset steps batchSize lr sampleEvery checkpointEvery labelDropout conditioning numClasses sampleSampler model { resolution } json }
} }`;

const start = (datasetVersionId: string, config: Record<string, unknown>) =>
  ann.client.request<{ startRun: { id: string } }>(START_RUN, { input: { datasetVersionId, name: 'cfg', config } });
const configOf = async (id: string) =>
  ok(await ann.client.request<{ run: { config: Record<string, any> } }>(CONFIG, { id })).run.config;
const presets = async (user: SignedInUser, v?: string) =>
  ok(await user.client.request<{ runPresets: Record<string, any>[] }>(PRESETS, { v })).runPresets;

beforeAll(async () => {
  hub = await startTestHub({ runs: { executor: false } });
  ann = await signUpUser(hub, 'Ann');
  eve = await signUpUser(hub, 'Eve');
  const teamId = await createTeam(ann, 'Lab', 'cfg-lab');
  ({ versionId: grey12 } = await readyDatasetVersion(hub, teamId, { resolution: 12, channels: 1, n: 6 }));
  ({ versionId: labelled8 } = await readyDatasetVersion(hub, teamId, { images: await twoClassImages(8, 8) }));
});
afterAll(async () => {
  await hub?.close();
});

describe('run config enums', () => {
  it('takes and returns GraphQL enums, and stores the schema’s own values', async () => {
    const id = ok(
      await start(
        grey12,
        tinyConfig({
          model: { resolution: 12, baseChannels: 8, groups: 4, attentionResolutions: [] },
          optimizer: 'ADAM',
          schedule: 'LINEAR',
          prediction: 'V',
          lrDecay: 'COSINE',
          sampleSampler: 'DDIM',
        }),
      ),
    ).startRun.id;
    const config = await configOf(id);
    expect(config).toMatchObject({
      preset: 'TINY',
      optimizer: 'ADAM',
      schedule: 'LINEAR',
      prediction: 'V',
      lrDecay: 'COSINE',
      sampleSampler: 'DDIM',
      conditioning: 'NONE',
    });
    expect(config.json).toMatchObject({
      preset: 'tiny',
      optimizer: 'adam',
      schedule: 'linear',
      prediction: 'v',
      lrDecay: 'cosine',
      sampleSampler: 'ddim',
      conditioning: 'none',
    });
  });

  it('refuses a value that is not in the enum, naming the field', async () => {
    const res = await start(grey12, tinyConfig({ optimizer: 'sgd' }));
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe('config.optimizer');
    expect(res.errors?.[0]?.message).toMatch(/"sgd" does not exist in "Optimizer" enum/);
  });
});

describe('a preset alone takes the dataset’s shape', () => {
  it('trains TINY at the dataset’s 12 px (not the preset’s 16) and keeps an explicit resolution check', async () => {
    const id = ok(await start(grey12, { preset: 'TINY', steps: 10 })).startRun.id;
    expect(await configOf(id)).toMatchObject({ preset: 'TINY', steps: 10, model: { resolution: 12 } });
    const wrong = await start(grey12, { preset: 'TINY', steps: 10, model: { resolution: 16 } });
    expect(errorCode(wrong)).toBe('BAD_USER_INPUT');
    expect(wrong.errors?.[0]?.extensions?.field).toBe('config.model.resolution');
    expect(wrong.errors?.[0]?.message).toMatch(/16×16 images but dataset .* is 12×12/);
  });
});

describe('runPresets', () => {
  it('on a dataset version: exactly what startRun stores for the preset alone', async () => {
    const list = await presets(ann, labelled8);
    expect(list.map((p) => `${p.architecture} ${p.preset}`)).toEqual([
      'DDPM TINY',
      'DDPM SMALL',
      'DDPM BASE',
      'GLOW GLOW_TINY',
      'GLOW GLOW_SMALL',
      'GLOW GLOW_BASE',
    ]);
    const tiny = list[0]!;
    expect(tiny).toMatchObject({ resolution: 8, channels: 1, error: null });
    expect(tiny.description).toMatch(/minutes on a CPU/);
    expect(tiny.parameters).toBeGreaterThan(1000);
    expect(tiny.defaults).toMatchObject({
      preset: 'TINY',
      steps: 2000,
      batchSize: 32,
      lr: 0.0002,
      // A fifth of the run while that is sooner than every 500 / 1000 steps (everyDefault).
      sampleEvery: 400,
      checkpointEvery: 400,
      labelDropout: 0.1,
      conditioning: 'CLASS',
      numClasses: 2,
      sampleSampler: 'DPMPP_2M_SDE',
      model: { resolution: 8 },
    });
    const stored = await configOf(ok(await start(labelled8, { preset: 'TINY' })).startRun.id);
    expect(tiny.defaults.json).toEqual(stored.json);
  });

  it("lists Glow's presets with their own defaults, exactly what startRun stores for them", async () => {
    const list = await presets(ann, labelled8);
    const glowTiny = list.find((p) => p.preset === 'GLOW_TINY')!;
    expect(glowTiny).toMatchObject({ architecture: 'GLOW', resolution: 8, channels: 1, error: null });
    expect(glowTiny.description).toMatch(/flow/);
    expect(glowTiny.parameters).toBeGreaterThan(1000);
    expect(glowTiny.defaults).toMatchObject({
      preset: 'GLOW_TINY',
      steps: 2000,
      lr: 0.001,
      conditioning: 'CLASS',
      numClasses: 2,
      labelDropout: null,
      sampleSampler: null,
      model: { resolution: 8 },
    });
    const stored = await configOf(
      ok(await start(labelled8, { architecture: 'GLOW', preset: 'GLOW_TINY' })).startRun.id,
    );
    expect(glowTiny.defaults.json).toEqual(stored.json);
    // DDPM runs report held-out bits/dim too, on the same split (the compare view puts them side by side).
    expect(list[0]!.defaults.json).toMatchObject({ heldOutEvery: 250, heldOutImages: 128, heldOutTimesteps: 8 });
    expect(glowTiny.defaults.json).toMatchObject({ heldOutEvery: 250, heldOutImages: 128 });
    // On a 12×12 version glow-small's three squeezes do not divide the side: the reason, not a config.
    const glowSmall = (await presets(ann, grey12)).find((p) => p.preset === 'GLOW_SMALL')!;
    expect(glowSmall).toMatchObject({ defaults: null, parameters: 0 });
    expect(glowSmall.error).toMatch(/resolution/);
  });

  it('without a dataset: the presets as they are (own resolution, RGB, unconditional)', async () => {
    const [tiny, small] = await presets(ann);
    expect(tiny).toMatchObject({ preset: 'TINY', resolution: 16, channels: 3, error: null });
    expect(tiny!.defaults).toMatchObject({ conditioning: 'NONE', numClasses: null, model: { resolution: null } });
    expect(small!.defaults.steps).toBe(100_000);
    expect(small!.parameters).toBeGreaterThan(tiny!.parameters);
  });

  it("is the team's business: outsiders get the missing version's answer, visitors UNAUTHENTICATED", async () => {
    // One answer for "not yours": another team's version reads like one that does not exist.
    expect(errorCode(await eve.client.request(PRESETS, { v: labelled8 }))).toBe('BAD_USER_INPUT');
    const anonymous = await fetch(hub.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: PRESETS }),
    });
    expect(
      ((await anonymous.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code,
    ).toBe('UNAUTHENTICATED');
  });
});
