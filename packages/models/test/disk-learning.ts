import * as tf from '@tensorflow/tfjs';
import { kernelInceptionDistance } from '../src/metrics/kid.ts';
import { randomConvFeatures } from '../src/metrics/random-conv.ts';
import { presetConfig } from '../src/diffusion/presets.ts';
import type { Rng } from '../src/rng.ts';
import { ddimSample } from '../src/diffusion/samplers/ddim.ts';
import { makeSchedule } from '../src/diffusion/schedule.ts';
import { createTrainer } from '../src/diffusion/train.ts';
import { createUNet, type UNet } from '../src/diffusion/unet.ts';
import { diskImages } from './disks.ts';

export const DISK_LEARNING = { steps: 400, batch: 16, samples: 64 } as const;

/**
 * The learning experiment of test/learning.test.ts (also run by bench/step-noise-kid.ts): a `tiny` UNet trained on
 * 512 generated coloured disks, sampled with DDIM-25 and scored by KID under a seeded random-conv extractor against
 * held-out disks. Nothing mocked: real training, real sampling, real KID.
 */
export function diskLearning() {
  const { steps, batch, samples } = DISK_LEARNING;
  const extractor = randomConvFeatures({ seed: 123, dims: 32, width: 16 });
  const data = diskImages(512, 16, 1);
  const reference = diskImages(samples, 16, 2); // held-out real images
  const schedule = makeSchedule({ kind: 'cosine' });
  const model = createUNet(presetConfig('tiny'), 7);
  const emaModel = createUNet(presetConfig('tiny'), 7);

  const sample = (m: UNet) =>
    ddimSample({
      denoiser: (x, t) => m.apply(x, t),
      schedule,
      prediction: 'v',
      shape: [samples, 16, 16, 3],
      seed: 99,
      steps: 25,
    });
  const kidTo = async (images: tf.Tensor4D) => {
    const [a, b] = await Promise.all([extractor.extract(images), extractor.extract(reference)]);
    return kernelInceptionDistance(a, b, extractor.dims, { subsetSize: 32, numSubsets: 50, seed: 0 }).mean;
  };

  /**
   * Trains `model` (noise and timesteps from `rng`, batches drawn by `order`) and leaves its EMA weights in
   * `emaModel`; returns the mean loss of the first 10 and of the last 50 steps.
   */
  const train = async (rng: Rng, order: Rng) => {
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
    let firstLoss = 0;
    let lastLoss = 0;
    for (let step = 0; step < steps; step++) {
      const idx = tf.tensor1d(order.uniformIntArray(batch, 512), 'int32');
      const images = tf.gather<tf.Tensor4D>(data, idx);
      const m = await trainer.step({ images });
      tf.dispose([idx, images]);
      if (step < 10) firstLoss += m.loss / 10;
      if (step >= steps - 50) lastLoss += m.loss / 50;
    }
    trainer.ema!.copyTo(emaModel.variables);
    trainer.dispose();
    return { firstLoss, lastLoss };
  };

  const dispose = () => {
    tf.dispose([data, reference]);
    model.dispose();
    emaModel.dispose();
    extractor.dispose();
  };
  return { model, emaModel, sample, kidTo, train, dispose };
}
