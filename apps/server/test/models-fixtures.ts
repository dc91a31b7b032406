import * as tf from '@tensorflow/tfjs';
import {
  artifactsToModelJson,
  createGlow,
  createUNet,
  memoryHandler,
  Rng,
  saveCheckpoint,
  weightDataToBuffer,
  type Checkpoint,
  type JsonValue,
} from '@dapple/models';
import { DdpmRunConfigSchema, RunConfigSchema, unetConfigFor } from '@dapple/contracts/run-config';
import { glowConfigFor, type GlowRunConfig } from '@dapple/contracts/run-config-glow';
import { checkpoints, insertMetricPoints } from '@dapple/db';
import type { TestHub } from './support/hub.ts';
import { checkpointPrefix } from '../src/services/runs/objects.ts';
import { insertSucceededRun, storeSampleGrid } from './run-rows.ts';
import { readyDatasetVersion, storedConfig, tinyConfig } from './runs-fixtures.ts';

/**
 * A finished run with real trainer-format checkpoints (written with saveCheckpoint exactly as the trainer
 * does, EMA included), a sample grid and loss metrics — without spawning a trainer process. By default on a
 * new 8×8 grey dataset; `dataset` trains it (a tiny UNet at that size) on an existing version instead.
 */
export async function finishedRunWithCheckpoints(
  hub: TestHub,
  teamId: string,
  userId: string,
  steps = [20, 40],
  opts: {
    dataset?: { versionId: string; resolution: number; channels: 1 | 3 };
    name?: string;
    /** The sample grids' height (default square, 16 px). */
    gridHeight?: number;
  } = {},
) {
  const dataset = opts.dataset ?? { ...(await readyDatasetVersion(hub, teamId, { n: 8 })), resolution: 8, channels: 1 };
  const base = tinyConfig({ steps: Math.max(...steps) });
  const config = DdpmRunConfigSchema.parse(
    storedConfig({ ...base, model: { ...base.model, resolution: dataset.resolution } }),
  );
  const unet = unetConfigFor(config, dataset.channels);
  const run = await insertSucceededRun(hub.db, {
    teamId,
    createdBy: userId,
    name: opts.name ?? `tiny-${Math.random().toString(36).slice(2, 7)}`,
    datasetVersionId: dataset.versionId,
    config,
  });
  const model = createUNet(unet, 7);
  for (const step of steps) {
    // EMA differs from the raw weights so a test can tell which ones were published.
    const ema = new Map([...model.variables].map(([name, v]) => [name, tf.add(v, step / 1000)]));
    await storeCheckpoint(hub, run.id, {
      variables: model.variables,
      ema,
      step,
      rngState: new Rng(1).getState(),
      config: { run: config, unet } as unknown as JsonValue,
    });
    tf.dispose([...ema.values()]);
    await storeSampleGrid(hub, run.id, step, {
      side: 16,
      ...(opts.gridHeight !== undefined ? { height: opts.gridHeight } : {}),
      background: { r: step, g: 0, b: 0 },
      seeds: [1, 2, 3, 4],
    });
  }
  model.dispose?.();
  await insertMetricPoints(
    hub.hub.pool,
    run.id,
    Array.from({ length: Math.max(...steps) }, (_, i) => ({ key: 'loss', step: i + 1, value: 1 / (i + 1) })),
  );
  return { run, datasetVersionId: dataset.versionId };
}

/** Every object key under a prefix. */
export async function listKeys(hub: TestHub, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of hub.store.list(prefix)) keys.push(o.key);
  return keys;
}

/**
 * A finished Glow run with a Glow checkpoint at `step` (written with saveCheckpoint exactly as the trainer does:
 * architecture glow, the flow under `glow`, EMA weights) and held-out bits/dim metrics, without a trainer.
 */
export async function finishedGlowRun(hub: TestHub, teamId: string, userId: string, step = 10) {
  const dataset = await readyDatasetVersion(hub, teamId, { n: 16 });
  const config = RunConfigSchema.parse({
    architecture: 'glow',
    preset: 'glow-tiny',
    model: { resolution: 8, levels: 2, depth: 2, hiddenChannels: 16 },
    steps: step,
    batchSize: 8,
  });
  const glow = glowConfigFor(config as GlowRunConfig, 1);
  const run = await insertSucceededRun(hub.db, {
    teamId,
    createdBy: userId,
    name: `glow-${Math.random().toString(36).slice(2, 7)}`,
    datasetVersionId: dataset.versionId,
    config,
  });
  const model = createGlow(glow, 7);
  const ema = new Map([...model.variables].map(([name, v]) => [name, tf.add(v, 0.001)]));
  await storeCheckpoint(hub, run.id, {
    architecture: 'glow',
    variables: model.variables,
    ema,
    step,
    rngState: new Rng(1).getState(),
    config: {
      run: config,
      labelNames: [],
      glow,
      heldOut: { images: 3, seed: 1, indices: [0, 5, 9] },
    } as unknown as JsonValue,
  });
  tf.dispose([...ema.values()]);
  model.dispose();
  await insertMetricPoints(hub.hub.pool, run.id, [
    { key: 'bits_per_dim', step, value: 5.25 },
    { key: 'held_out_bits_per_dim', step, value: 5.5 },
  ]);
  return { run, datasetVersionId: dataset.versionId };
}

/** Writes a checkpoint as the trainer uploads it (model.json + weights.bin under the run's prefix) and its row. */
async function storeCheckpoint(hub: TestHub, runId: string, checkpoint: Checkpoint): Promise<void> {
  const handler = memoryHandler();
  await saveCheckpoint(handler, checkpoint);
  const weights = Buffer.from(weightDataToBuffer(handler.artifacts!.weightData));
  const json = Buffer.from(JSON.stringify(artifactsToModelJson(handler.artifacts!)));
  const prefix = checkpointPrefix(runId, checkpoint.step);
  await hub.store.put(`${prefix}/weights.bin`, weights, { size: weights.length });
  await hub.store.put(`${prefix}/model.json`, json, { size: json.length });
  await hub.db
    .insert(checkpoints)
    .values({ runId, step: checkpoint.step, objectPrefix: prefix, sizeBytes: weights.length + json.length });
}
