import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backend.ts';
import { Rng } from '../src/rng.ts';
import { DISK_LEARNING, diskLearning } from './disk-learning.ts';
import { diskImages } from './disks.ts';

/**
 * Learning, for real: a `tiny` UNet trained for a bounded number of steps on generated coloured disks must
 * sample images far closer to the data than the untrained model does, by KID under a fixed (seeded)
 * random-conv feature extractor. Nothing here is mocked: real training, real DDIM sampling, real KID.
 */
const STEPS = DISK_LEARNING.steps;
const SAMPLES = DISK_LEARNING.samples;

describe('learning', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  it(`a tiny model trained ${STEPS} steps on disks samples far closer to the data than untrained (KID)`, async () => {
    const { model, emaModel, sample, kidTo, train, dispose } = diskLearning();

    const untrainedSamples = await sample(model);
    const untrainedKid = await kidTo(untrainedSamples);

    const rng = new Rng(3);
    const { firstLoss: first, lastLoss: last } = await train(rng, rng.fork(1));
    const trainedSamples = await sample(emaModel);
    const trainedKid = await kidTo(trainedSamples);
    const dataKid = await kidTo(diskImages(SAMPLES, 16, 5));
    console.log(JSON.stringify({ untrainedKid, trainedKid, dataKid, firstLoss: first, lastLoss: last }));

    expect(last).toBeLessThan(first * 0.5);
    expect(untrainedKid).toBeGreaterThan(0);
    // Measured here: untrained ≈ 0.66, trained ≈ 0.010, real vs real ≈ 0.0002.
    expect(trainedKid).toBeLessThan(untrainedKid * 0.05);
    tf.dispose([untrainedSamples, trainedSamples]);
    dispose();
  }, 600_000);
});
