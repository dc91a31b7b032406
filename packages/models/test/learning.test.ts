import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backend.ts';
import { kernelInceptionDistance } from '../src/metrics/kid.ts';
import { randomConvFeatures } from '../src/metrics/random-conv.ts';
import { presetConfig } from '../src/diffusion/presets.ts';
import { Rng } from '../src/rng.ts';
import { ddimSample } from '../src/diffusion/samplers/ddim.ts';
import { makeSchedule } from '../src/diffusion/schedule.ts';
import { createTrainer } from '../src/diffusion/train.ts';
import { createUNet, type UNet } from '../src/diffusion/unet.ts';
import { diskImages } from './disks.ts';

/**
 * Learning, for real: a `tiny` UNet trained for a bounded number of steps on generated coloured disks must
 * sample images far closer to the data than the untrained model does, by KID under a fixed (seeded)
 * random-conv feature extractor. Nothing here is mocked: real training, real DDIM sampling, real KID.
 */
const STEPS = 400;
const BATCH = 16;
const SAMPLES = 64;

describe('learning', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });
  const extractor = randomConvFeatures({ seed: 123, dims: 32, width: 16 });
  afterAll(() => extractor.dispose());

  it(`a tiny model trained ${STEPS} steps on disks samples far closer to the data than untrained (KID)`, async () => {
    const data = diskImages(512, 16, 1);
    const reference = diskImages(SAMPLES, 16, 2); // held-out real images
    const schedule = makeSchedule({ kind: 'cosine' });
    const model = createUNet(presetConfig('tiny'), 7);
    const emaModel = createUNet(presetConfig('tiny'), 7);

    const sample = (m: UNet) =>
      ddimSample({
        denoiser: (x, t) => m.apply(x, t),
        schedule,
        prediction: 'v',
        shape: [SAMPLES, 16, 16, 3],
        seed: 99,
        steps: 25,
      });
    const kidTo = async (images: tf.Tensor4D) => {
      const [a, b] = await Promise.all([extractor.extract(images), extractor.extract(reference)]);
      return kernelInceptionDistance(a, b, extractor.dims, { subsetSize: 32, numSubsets: 50, seed: 0 }).mean;
    };

    const untrainedSamples = await sample(model);
    const untrainedKid = await kidTo(untrainedSamples);

    const rng = new Rng(3);
    const trainer = createTrainer({
      model,
      schedule,
      prediction: 'v',
      optimizer: { kind: 'adam' },
      lr: { base: 2e-3, warmupSteps: 20 },
      ema: { maxDecay: 0.995 },
      clipNorm: 1,
      rng,
    });
    const order = rng.fork(1);
    let first = 0;
    let last = 0;
    for (let step = 0; step < STEPS; step++) {
      const idx = tf.tensor1d(order.uniformIntArray(BATCH, 512), 'int32');
      const images = tf.gather(data, idx) as tf.Tensor4D;
      const m = await trainer.step({ images });
      tf.dispose([idx, images]);
      if (step < 10) first += m.loss / 10;
      if (step >= STEPS - 50) last += m.loss / 50;
    }
    trainer.ema!.copyTo(emaModel.variables);
    const trainedSamples = await sample(emaModel);
    const trainedKid = await kidTo(trainedSamples);
    const dataKid = await kidTo(diskImages(SAMPLES, 16, 5));
    console.log(JSON.stringify({ untrainedKid, trainedKid, dataKid, firstLoss: first, lastLoss: last }));

    expect(last).toBeLessThan(first * 0.5);
    expect(untrainedKid).toBeGreaterThan(0);
    // Measured here: untrained ≈ 0.66, trained ≈ 0.010, real vs real ≈ 0.0002.
    expect(trainedKid).toBeLessThan(untrainedKid * 0.05);
    tf.dispose([data, reference, untrainedSamples, trainedSamples]);
    trainer.dispose();
    model.dispose();
    emaModel.dispose();
  }, 600_000);
});
