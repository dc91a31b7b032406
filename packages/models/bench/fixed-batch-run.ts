import { makeSchedule } from '../src/diffusion/schedule.ts';
import { createTrainer, type StepMetrics } from '../src/diffusion/train.ts';
import { createUNet, type UNetConfig } from '../src/diffusion/unet.ts';
import type { Precision } from '../src/optim/precision.ts';
import { blobImages } from '../src/nn/webgpu/test-support.ts';
import { Rng } from '../src/rng.ts';

// A short training run on a fixed batch, for training.test.ts (its mixed-f16 case) and bench/webgpu-precision.ts
// (fp32 against mixed-f16 on the same run).

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
  const x = blobImages(4, 3, config.resolution);
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
