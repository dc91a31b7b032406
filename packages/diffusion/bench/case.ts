/**
 * One benchmark case in its own process (so peak RSS and the never-shrinking wasm heap belong to it):
 * times the UNet forward pass (one sampling step) and a full training step, prints one JSON line.
 * Usage: tsx bench/case.ts '{"backend":"wasm","preset":"tiny","batch":16,"train":true}'
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../src/backend.ts';
import { presetConfig, type PresetName } from '../src/presets.ts';
import { Rng } from '../src/rng.ts';
import { makeSchedule } from '../src/schedule.ts';
import { createTrainer } from '../src/train.ts';
import { createUNet } from '../src/unet.ts';

interface CaseArgs {
  backend: BackendName;
  preset: PresetName;
  batch: number;
  train: boolean;
  /** Minimum timed iterations and seconds per measurement. */
  minIters?: number;
  minSeconds?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as CaseArgs;
const report = await selectBackend({ prefer: args.backend, fallback: false });
const config = presetConfig(args.preset);
const model = createUNet(config, 0);
// Move the zero-initialised output layers off zero so the timed work is representative.
for (const v of model.variables.values()) v.assign(tf.tidy(() => tf.add(v, new Rng(1).normal(v.shape).mul(0.02))));
const r = config.resolution;
const x = tf.tidy(() => tf.clipByValue(new Rng(2).normal([args.batch, r, r, config.channels]), -1, 1)) as tf.Tensor4D;
const t = tf.fill([args.batch], 500, 'int32') as tf.Tensor1D;

async function timeIt(fn: () => Promise<void>): Promise<number> {
  await fn(); // warm-up: kernel setup, XNNPACK operator caches, heap growth
  const minIters = args.minIters ?? 3;
  const minMs = (args.minSeconds ?? 2) * 1000;
  let iters = 0;
  const start = performance.now();
  while (iters < minIters || performance.now() - start < minMs) {
    await fn();
    iters += 1;
    if (iters >= 50) break;
  }
  return (performance.now() - start) / iters;
}

const forwardMs = await timeIt(async () => {
  const y = model.apply(x, t);
  await y.data();
  y.dispose();
});
const line: Record<string, unknown> = {
  bench: 'diffusion.forward',
  backend: report.backend,
  preset: args.preset,
  params: model.paramCount(),
  batch: args.batch,
  forwardMs: +forwardMs.toFixed(1),
  imgPerSec: +((args.batch * 1000) / forwardMs).toFixed(2),
};
if (args.train) {
  const trainer = createTrainer({
    model,
    schedule: makeSchedule({ kind: 'linear' }),
    prediction: 'eps',
    optimizer: { kind: 'adam' },
    lr: 1e-4,
    clipNorm: 1,
    rng: new Rng(3),
  });
  const stepMs = await timeIt(async () => {
    await trainer.step({ images: x });
  });
  Object.assign(line, {
    bench: 'diffusion.train',
    stepMs: +stepMs.toFixed(1),
    imgPerSec: +((args.batch * 1000) / stepMs).toFixed(2),
    forwardImgPerSec: +((args.batch * 1000) / forwardMs).toFixed(2),
    trainOverForward: +(stepMs / forwardMs).toFixed(2),
  });
}
line['peakRssMB'] = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(line));
