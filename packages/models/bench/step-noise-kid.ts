/**
 * Sample quality after a change to how training draws its randomness (per-image streams, src/diffusion/step-noise.ts):
 * test/learning.test.ts's run (tiny UNet, 400 steps on coloured disks, EMA, DDIM-25 samples, KID under a seeded
 * random-conv extractor) with the trainer's Rng seeded by argv[2] and the same data order for every seed, so
 * seeds differ only in their noise/timestep streams. Run it from two checkouts of this package (before/after)
 * over a few seeds and compare the spread: bench/results/cpu-parallel-2026-12-06-step-noise-kid.jsonl.
 * Usage: tsx bench/step-noise-kid.ts <seed>
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.ts';
import { kernelInceptionDistance } from '../src/metrics/kid.ts';
import { randomConvFeatures } from '../src/metrics/random-conv.ts';
import { presetConfig } from '../src/diffusion/presets.ts';
import { Rng } from '../src/rng.ts';
import { ddimSample } from '../src/diffusion/samplers/ddim.ts';
import { makeSchedule } from '../src/diffusion/schedule.ts';
import { createTrainer } from '../src/diffusion/train.ts';
import { createUNet, type UNet } from '../src/diffusion/unet.ts';
import { diskImages } from '../test/disks.ts';
const seed = Number(process.argv[2] ?? 3);
await selectBackend({ prefer: 'wasm' });
const extractor = randomConvFeatures({ seed: 123, dims: 32, width: 16 });
const STEPS = 400,
  BATCH = 16,
  SAMPLES = 64;
const data = diskImages(512, 16, 1);
const reference = diskImages(SAMPLES, 16, 2);
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
const rng = new Rng(seed);
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
const order = new Rng(3).fork(1); // same data order for every seed: only the noise/t stream varies
let last = 0;
for (let step = 0; step < STEPS; step++) {
  const idx = tf.tensor1d(order.uniformIntArray(BATCH, 512), 'int32');
  const images = tf.gather(data, idx) as tf.Tensor4D;
  const m = await trainer.step({ images });
  tf.dispose([idx, images]);
  if (step >= STEPS - 50) last += m.loss / 50;
}
trainer.ema!.copyTo(emaModel.variables);
const trainedKid = await kidTo(await sample(emaModel));
console.log(JSON.stringify({ dir: process.cwd(), seed, trainedKid, lastLoss: last }));
