import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '../src/diffusion/schedule.ts';
import { createTrainer, type StepMetrics } from '../src/diffusion/train.ts';
import { createUNet, type UNetConfig } from '../src/diffusion/unet.ts';
import type { Precision } from '../src/optim/precision.ts';
import { Rng } from '../src/rng.ts';

// A short training run on a fixed batch, for loss-scale.test.ts and bench/webgpu-precision.ts (fp32 against
// mixed-f16 on the same run).

/** Blobs on a dark background (as in training.test.ts): a dataset with structure, made here. */
function blobs(n: number, seed: number, r: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const out = new Float32Array(n * r * r);
  for (let i = 0; i < n; i++) {
    const [cx, cy] = [2 + 4 * rng.uniformArray(1)[0]!, 2 + 4 * rng.uniformArray(1)[0]!];
    for (let y = 0; y < r; y++)
      for (let x = 0; x < r; x++) out[(i * r + y) * r + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 3) * 2 - 1;
  }
  return tf.tensor4d(out, [n, r, r, 1]);
}

/**
 * `steps` steps on 4 images with the same t and noise every step (the loss must fall fast), metrics read every 5;
 * also what bench/webgpu-precision.ts runs in fp32 and mixed-f16.
 */
export async function trainFixedBatch(precision: Precision, config: UNetConfig, steps: number) {
  const model = createUNet(config, 5);
  const rng = new Rng(21);
  const trainer = createTrainer({
    model,
    schedule: makeSchedule({ kind: 'linear', T: 100 }),
    prediction: 'eps',
    optimizer: { kind: 'adam' },
    lr: 3e-3,
    clipNorm: 1,
    rng,
    precision,
  });
  const x = blobs(4, 3, config.resolution);
  const start = rng.getState();
  const metrics: StepMetrics[] = [];
  for (let i = 0; i < steps; i++) {
    rng.setState(start);
    trainer.queueStep({ images: x });
    if ((i + 1) % 5 === 0 || i === steps - 1) metrics.push(...(await trainer.flushMetrics()));
  }
  x.dispose();
  const weights = (await Promise.all([...model.variables.values()].map((v) => v.data()))).flatMap((d) =>
    Array.from(d as Float32Array),
  );
  const choice = trainer.precision;
  trainer.dispose();
  model.dispose();
  return { metrics, weights, precision: choice };
}
