import * as tf from '@tensorflow/tfjs';
import { createUNet, loadInferenceWeights, memoryHandler } from '@dapple/models';
import { DdpmRunConfigSchema, unetConfigFor } from '@dapple/contracts/run-config';
import { modelVersions } from '@dapple/db';
import {
  type TestHub,
  type SignedInUser,
  finishedRunWithCheckpoints,
  ok,
  START_RUN,
  tinyConfig,
  storedConfig,
} from '@dapple/server/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubWithDataset, maxAbsDiff, readArtifacts, storedCheckpoint, trainAttempt } from './hub-run.ts';

const PUBLISH = `mutation ($input: PublishModelInput!) { publishModel(input: $input) { version { id } } }`;
const SEED = 99;

let hub: TestHub;
let ann: SignedInUser;
let teamId: string;
let datasetVersionId: string;
let baseVersionId: string;
/** The published base weights (float32, so they compare exactly). */
let base: Map<string, tf.Tensor>;

beforeAll(async () => {
  ({ hub, ann, teamId, datasetVersionId } = await hubWithDataset('trainer-ft', { n: 16 }));
  // A run trained elsewhere (seed 7, EMA ≠ raw weights), published as float32: its EMA weights are the base.
  const { run } = await finishedRunWithCheckpoints(hub, teamId, ann.id);
  baseVersionId = ok(
    await ann.client.request<{ publishModel: { version: { id: string } } }>(PUBLISH, {
      input: { runId: run.id, step: 40, modelName: 'base', precision: 'FLOAT32' },
    }),
  ).publishModel.version.id;
  const [version] = await hub.db.select().from(modelVersions).where(eq(modelVersions.id, baseVersionId));
  base = (await loadInferenceWeights(memoryHandler(await readArtifacts(hub, version!.objectPrefix)))).weights;
});
afterAll(async () => {
  tf.dispose([...(base?.values() ?? [])]);
  await hub?.close();
});

const startRun = async (config: Record<string, unknown>, fromModelVersionId?: string) =>
  ok(
    await ann.client.request<{ startRun: { id: string } }>(START_RUN, {
      input: { datasetVersionId, name: 'ft', seed: SEED, config, fromModelVersionId },
    }),
  ).startRun.id;

describe('fine-tuning in the trainer', () => {
  it("starts from the base version's weights (raw and EMA) at step 0 with a fresh optimizer", async () => {
    const config = tinyConfig({ steps: 10 });
    // The control: what this run would start from without a base differs from the base by far.
    const scratch = createUNet(unetConfigFor(DdpmRunConfigSchema.parse(storedConfig(config)), 1), SEED);
    expect(maxAbsDiff(scratch.variables, base)).toBeGreaterThan(0.01);
    scratch.dispose?.();

    const id = await startRun(config, baseVersionId);
    // Stopped before any update, the trainer checkpoints exactly the weights it starts from.
    const attempt = await trainAttempt(hub, id, { stopBeforeFirstStep: true });
    expect(attempt).toMatchObject({ outcome: 'stopped', step: 0 });
    expect(attempt.log.join('\n')).toMatch(
      /fine-tuning from model "base" v1 .*base weights loaded, fresh optimizer, step 0/,
    );
    const ckpt = await storedCheckpoint(hub, id, 0);
    try {
      expect(ckpt.step).toBe(0);
      expect(maxAbsDiff(base, ckpt.variables)).toBe(0);
      expect(maxAbsDiff(base, ckpt.ema!)).toBe(0);
      // Adam's moments start at zero (no state carried over from the base's training).
      for (const [name, slot] of ckpt.optimizer ?? new Map()) expect(tf.max(tf.abs(slot)).dataSync()[0], name).toBe(0);
    } finally {
      tf.dispose([...ckpt.variables.values(), ...(ckpt.ema?.values() ?? []), ...(ckpt.optimizer?.values() ?? [])]);
    }
  });

  it('then trains from there: after a few small updates the weights are still near the base, not near a fresh init', async () => {
    const id = await startRun(tinyConfig({ steps: 3, lr: 1e-6, checkpointEvery: 3, sampleEvery: 3 }), baseVersionId);
    const attempt = await trainAttempt(hub, id);
    expect(attempt).toMatchObject({ outcome: 'succeeded', step: 3 });
    const ckpt = await storedCheckpoint(hub, id, 3);
    try {
      // Adam moves each weight by at most ~lr per update.
      const moved = maxAbsDiff(ckpt.variables, base);
      expect(moved).toBeGreaterThan(0);
      expect(moved).toBeLessThan(1e-5);
    } finally {
      tf.dispose([...ckpt.variables.values(), ...(ckpt.ema?.values() ?? []), ...(ckpt.optimizer?.values() ?? [])]);
    }
  });
});
