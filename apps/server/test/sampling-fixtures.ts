import { createUNet, Rng, silenceCpuBanner, type JsonValue, type UNetConfig } from '@dapple/models';
import { loadModelForSampling, type ModelSampler } from '@dapple/models/browser';
import { microUNetConfig, perturbWeights, publishedFiles } from '@dapple/models/testing';
import { models, modelVersions, runs, type ModelVersion, type ModelVersionConfig } from '@dapple/db';
import sharp from 'sharp';
import type { TestHub } from './support/hub.ts';
import type { SignedInUser } from './helpers.ts';
import { ok, readyDatasetVersion } from './runs-fixtures.ts';

/** The micro UNet without attention, the architecture the hub's tests (and the web e2e) publish and sample. */
export const tinyUNet = (extra: Partial<UNetConfig> = {}): UNetConfig =>
  microUNetConfig({ attentionResolutions: [], ...extra });

/**
 * A published-looking model version without a trainer: a run row, a model row, a version row in the
 * registry's format (config { unet, schedule, predictionType }) and EMA-style inference weights written
 * with saveInferenceWeights under the version prefix, as publishModel does. The weights are random
 * (output layer perturbed) so images depend on them.
 */
export async function publishTinyVersion(
  hub: TestHub,
  teamId: string,
  userId: string,
  opts: {
    unet?: UNetConfig;
    labelNames?: string[];
    timesteps?: number;
    name?: string;
    visibility?: 'private' | 'team' | 'public';
  } = {},
): Promise<{ version: ModelVersion; modelId: string }> {
  const unet = opts.unet ?? tinyUNet();
  const T = opts.timesteps ?? 100;
  const [run] = await hub.db
    .insert(runs)
    .values({
      teamId,
      name: 'sampling-fixture',
      config: { preset: 'tiny' },
      seed: 1,
      status: 'succeeded',
      totalSteps: 10,
      step: 10,
      createdBy: userId,
    })
    .returning();
  const [model] = await hub.db
    .insert(models)
    .values({
      teamId,
      name: opts.name ?? `m-${Math.random().toString(36).slice(2, 8)}`,
      createdBy: userId,
      lastVersionNumber: 1,
      visibility: opts.visibility ?? 'team',
    })
    .returning();
  const prefix = `models/${model!.id}/v1/`;
  const config: ModelVersionConfig = {
    format: 'dapple-model',
    formatVersion: 1,
    unet: unet as unknown as Record<string, unknown>,
    schedule: { kind: 'cosine', T },
    predictionType: 'eps',
  };
  silenceCpuBanner();
  const net = createUNet(unet, 3);
  perturbWeights(net.variables, new Rng(5));
  const { modelJson, weights } = await publishedFiles({
    weights: net.variables,
    config: config as unknown as JsonValue,
    step: 10,
  });
  net.dispose();
  await hub.store.put(`${prefix}weights.bin`, weights, { size: weights.length });
  await hub.store.put(`${prefix}model.json`, modelJson, { size: modelJson.length });
  const [version] = await hub.db
    .insert(modelVersions)
    .values({
      modelId: model!.id,
      number: 1,
      runId: run!.id,
      step: 10,
      objectPrefix: prefix,
      weightsDtype: 'float32',
      weightsBytes: weights.length,
      config,
      resolution: unet.resolution,
      channels: unet.channels,
      labelNames: opts.labelNames ?? [],
      modelCard: '# fixture',
      createdBy: userId,
    })
    .returning();
  return { version: version!, modelId: model!.id };
}

/**
 * Loads a published version for sampling as the dashboard does: modelVersion.files URLs (the hub's signed store
 * URLs), fetched over HTTP by loadModelForSampling. The caller disposes the sampler.
 */
export async function loadVersionAsTheDashboard(user: SignedInUser, versionId: string): Promise<ModelSampler> {
  const files = ok(
    await user.client.request<{ modelVersion: { files: { modelJsonUrl: string; weightsUrl: string } } }>(
      `query ($id: ID!) { modelVersion(id: $id) { files { modelJsonUrl weightsUrl } } }`,
      { id: versionId },
    ),
  ).modelVersion.files;
  return loadModelForSampling({ modelJson: files.modelJsonUrl, weights: { 'weights.bin': files.weightsUrl } });
}

export const GENERATE = `mutation ($input: GenerateSamplesInput!) {
  generateSamples(input: $input) { id status queuePosition params { count steps sampler eta seed guidance label labelId } }
}`;

export const SAMPLE_JOB = `query ($id: ID!, $shareToken: String) {
  sampleJob(id: $id, shareToken: $shareToken) { id status error queuePosition progress { stepsDone stepsTotal fraction } images { index url } params { seed } }
}`;

/** A ready dataset version of n distinct RGB noise images (written through prepareDataset, as a prepared upload). */
export async function readyNoiseDataset(
  hub: TestHub,
  teamId: string,
  opts: { resolution?: number; n: number; seed?: number },
) {
  const resolution = opts.resolution ?? 8;
  const rng = new Rng(opts.seed ?? 11);
  const images: { path: string; bytes: Buffer }[] = [];
  for (let i = 0; i < opts.n; i++) {
    const pixels = Buffer.from(rng.uniformArray(resolution * resolution * 3).map((v) => Math.floor(v * 256)));
    images.push({
      path: `noise-${String(i).padStart(4, '0')}.png`,
      bytes: await sharp(pixels, { raw: { width: resolution, height: resolution, channels: 3 } })
        .png()
        .toBuffer(),
    });
  }
  return readyDatasetVersion(hub, teamId, {
    resolution,
    channels: 3,
    images,
    name: `noise-${Math.random().toString(36).slice(2, 8)}`,
  });
}
