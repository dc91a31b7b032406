/**
 * Sample quality of the samplers on a briefly trained model (docs/samplers.md), as JSON lines.
 *
 *   tsx bench/sampler-quality.ts train <dir> [--steps 3000] [--scale-shift] [--save 1000,3000]
 *   tsx bench/sampler-quality.ts eval <dir>/step-3000 [--n 128] [--configs ddim:50,ddpm:100,...] [--raw]
 *
 * `train` fits the tiny preset, class-conditional, to 4,000 images of the shapes set (testing/shapes-dataset.ts:
 * four classes that differ in shape and colour, 16×16 RGB) with the run defaults (AdamW 2e-4, batch 32, clip 1,
 * EMA 0.9999 with warm-up, label dropout 0.1, cosine schedule, T = 1000, ε-prediction) and saves checkpoints.
 * `eval` draws `n` samples per sampler config (labels cycling over the classes, seed 1234) and scores them against
 * 1,024 held-out real images with a classifier trained on 4,000 more (testing/tiny-classifier.ts, ≥ 99 % on real
 * images): `accuracy` (share of samples classified as their label), `kidClassifier` (KID on the classifier's
 * pooled features, standardised on the real set), `hfRatio` (mean |x − mean of its 4 neighbours|, i.e.
 * high-frequency energy or grain, over the real images'), and each of them over the first config's (the
 * baseline, measured in the same run). A config is `sampler:steps[:spacing[:flag…]]` with sampler ddim, ddpm,
 * dpm (DPM-Solver++(2M)) or sde (its stochastic form), and flags g<scale> (guidance), noclip, eta1, n<count>.
 * Wall times depend on the machine's load (other jobs share it): the line says the load average.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { selectBackend } from '../src/backend.ts';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/checkpoint.ts';
import { fileSystemHandler } from '../src/checkpoint/fs-handler.ts';
import { presetConfig } from '../src/diffusion/presets.ts';
import { ddimSample, ddpmSample, dpmSolverSample, type TimestepSpacing } from '../src/diffusion/samplers/index.ts';
import { makeSchedule } from '../src/diffusion/schedule.ts';
import { makeShapes } from '../src/diffusion/testing/shapes-dataset.ts';
import { trainTinyClassifier } from '../src/diffusion/testing/tiny-classifier.ts';
import { trainLabelled } from '../src/diffusion/testing/train-labelled.ts';
import { createTrainer } from '../src/diffusion/train.ts';
import { createUNet, type UNetConfig } from '../src/diffusion/unet.ts';
import { kernelInceptionDistance } from '../src/metrics/kid.ts';
import { Rng } from '../src/rng.ts';
import { ddpmRunTrainerConfig } from './harness.ts';

const argv = process.argv.slice(2);
const [command, dir] = argv;
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const load = () => +os.loadavg()[0]!.toFixed(2);
const CLASSES = 4;

interface SavedConfig {
  unet: UNetConfig;
  schedule: 'cosine';
  prediction: 'eps';
}

async function train(out: string): Promise<void> {
  const steps = Number(option('steps', '3000'));
  const save = new Set(option('save', String(steps)).split(',').map(Number));
  const unet = presetConfig('tiny', {
    channels: 3,
    numClasses: CLASSES,
    ...(argv.includes('--scale-shift') ? { scaleShiftNorm: true } : {}),
  });
  const data = makeShapes(4000, 1);
  const images = tf.tensor4d(data.images, data.shape);
  const labels = tf.tensor1d(data.labels, 'int32');
  const model = createUNet(unet, 0);
  const schedule = makeSchedule({ kind: 'cosine', T: 1000 });
  const trainer = createTrainer({ ...ddpmRunTrainerConfig(model, schedule, 7), microBatch: 32 });
  const started = performance.now();
  let lossSum = 0;
  const onStep = async (step: number, loss: number) => {
    lossSum += loss;
    if (step % 100 === 0) {
      const sec = (performance.now() - started) / 1000;
      console.log(
        JSON.stringify({ bench: 'sampler-quality.train', step, loss: +(lossSum / 100).toFixed(4), sec, load: load() }),
      );
      lossSum = 0;
    }
    if (save.has(step)) {
      const state = trainer.getState();
      mkdirSync(`${out}/step-${step}`, { recursive: true });
      const config: SavedConfig = { unet, schedule: 'cosine', prediction: 'eps' };
      await saveCheckpoint(fileSystemHandler(`${out}/step-${step}`), {
        variables: model.variables,
        ...(state.ema ? { ema: state.ema } : {}),
        optimizer: state.optimizer,
        step,
        rngState: state.rngState,
        config: config as never,
      });
    }
  };
  await trainLabelled(trainer, { images, labels }, { steps, batch: 32, order: new Rng(99), onStep });
}

/** Mean |x − mean of its 4 neighbours| over interior pixels: high-frequency energy (grain). */
function highFrequency(x: Float32Array, n: number, r: number, c: number): number {
  let sum = 0;
  let count = 0;
  const at = (i: number, y: number, xx: number, ch: number) => x[((i * r + y) * r + xx) * c + ch]!;
  for (let i = 0; i < n; i++)
    for (let y = 1; y < r - 1; y++)
      for (let xx = 1; xx < r - 1; xx++)
        for (let ch = 0; ch < c; ch++) {
          const around = at(i, y - 1, xx, ch) + at(i, y + 1, xx, ch) + at(i, y, xx - 1, ch) + at(i, y, xx + 1, ch);
          sum += Math.abs(at(i, y, xx, ch) - 0.25 * around);
          count += 1;
        }
  return sum / count;
}

/** Standardises features by the real set's per-dimension mean and std (the classifier's max-pool features are large). */
function standardiser(real: Float32Array, dims: number): (a: Float32Array) => Float32Array {
  const n = real.length / dims;
  const mean = new Float64Array(dims);
  const sd = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) mean[j] = mean[j]! + real[i * dims + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) sd[j] = sd[j]! + (real[i * dims + j]! - mean[j]!) ** 2 / n;
  return (a) => a.map((v, k) => (v - mean[k % dims]!) / Math.sqrt(sd[k % dims]! + 1e-8));
}

async function evaluate(checkpointDir: string): Promise<void> {
  const ckpt = await loadCheckpoint(fileSystemHandler(checkpointDir));
  const config = ckpt.config as unknown as SavedConfig;
  const raw = argv.includes('--raw');
  const model = createUNet(config.unet, 0);
  const weights = raw || !ckpt.ema ? ckpt.variables : ckpt.ema;
  for (const [name, v] of model.variables) v.assign(weights.get(name)!);
  tf.dispose([...ckpt.variables.values(), ...(ckpt.ema?.values() ?? []), ...(ckpt.optimizer?.values() ?? [])]);
  const schedule = makeSchedule({ kind: config.schedule, T: 1000 });
  const r = config.unet.resolution;

  const train = makeShapes(4000, 2);
  const trainX = tf.tensor4d(train.images, train.shape);
  const classifier = await trainTinyClassifier(trainX, train.labels, { classes: CLASSES, steps: 300, seed: 5 });
  trainX.dispose();
  const real = makeShapes(1024, 3);
  const realX = tf.tensor4d(real.images, real.shape);
  const realScore = await classifier.score(realX, real.labels);
  const realFeatures = (await classifier.features(realX).data()) as Float32Array;
  realX.dispose();
  const dims = realFeatures.length / 1024;
  const standardise = standardiser(realFeatures, dims);
  const realStd = standardise(realFeatures);
  const realHf = highFrequency(real.images, 1024, r, 3);
  const common = { bench: 'sampler-quality.eval', checkpoint: checkpointDir, weights: raw ? 'raw' : 'ema' };
  console.log(
    JSON.stringify({ ...common, realAccuracy: realScore.accuracy, realHf: +realHf.toFixed(4), load: load() }),
  );

  let baseline: { accuracy: number; kidClassifier: number; hfRatio: number } | null = null;
  const n0 = Number(option('n', '128'));
  for (const spec of option('configs', 'ddim:50,ddpm:100,ddpm:50,dpm:20,dpm:50,sde:20,sde:50').split(',')) {
    const [kind, stepsText, spacing, ...flags] = spec.split(':');
    const steps = Number(stepsText);
    const n = Number(flags.find((f) => /^n\d+$/.test(f))?.slice(1) ?? n0);
    const guidanceFlag = flags.find((f) => /^g[\d.]+$/.test(f));
    const guidance = guidanceFlag ? Number(guidanceFlag.slice(1)) : undefined;
    const labelsAll = new Int32Array(n).map((_, i) => i % CLASSES);
    const started = performance.now();
    const cpuStart = process.cpuUsage().user;
    const parts: tf.Tensor4D[] = [];
    for (let start = 0; start < n; start += 64) {
      const size = Math.min(64, n - start);
      const labels = tf.tensor1d(labelsAll.subarray(start, start + size), 'int32');
      const opts = {
        denoiser: (x: tf.Tensor4D, t: tf.Tensor1D, l?: tf.Tensor1D) => model.apply(x, t, l),
        schedule,
        prediction: config.prediction,
        shape: [size, r, r, 3] as [number, number, number, number],
        seed: 1234,
        firstImageIndex: start,
        labels,
        ...(guidance !== undefined ? { guidanceScale: guidance, nullLabel: CLASSES } : {}),
        ...(spacing ? { spacing: spacing as TimestepSpacing } : {}),
        clipX0: !flags.includes('noclip'),
        steps,
      };
      if (kind === 'ddim') parts.push(await ddimSample({ ...opts, eta: flags.includes('eta1') ? 1 : 0 }));
      else if (kind === 'ddpm') parts.push(await ddpmSample(opts));
      else if (kind === 'dpm' || kind === 'sde')
        parts.push(await dpmSolverSample({ ...opts, stochastic: kind === 'sde' }));
      else throw new Error(`unknown sampler ${kind} in ${spec}`);
      labels.dispose();
    }
    const x = tf.concat(parts, 0) as tf.Tensor4D;
    tf.dispose(parts);
    const sec = (performance.now() - started) / 1000;
    const cpuSec = (process.cpuUsage().user - cpuStart) / 1e6;
    const pixels = (await x.data()) as Float32Array;
    const score = await classifier.score(x, labelsAll);
    const features = standardise((await classifier.features(x).data()) as Float32Array);
    x.dispose();
    const kid = kernelInceptionDistance(features, realStd, dims, { subsetSize: Math.min(200, n), numSubsets: 50 });
    const result = {
      accuracy: score.accuracy,
      kidClassifier: +kid.mean.toFixed(4),
      hfRatio: +(highFrequency(pixels, n, r, 3) / realHf).toFixed(3),
    };
    baseline ??= result;
    console.log(
      JSON.stringify({
        ...common,
        config: spec,
        n,
        ...result,
        accuracyOverBaseline: +(result.accuracy / baseline.accuracy).toFixed(3),
        kidOverBaseline: +(result.kidClassifier / baseline.kidClassifier).toFixed(3),
        hfOverBaseline: +(result.hfRatio / baseline.hfRatio).toFixed(3),
        sec: +sec.toFixed(1),
        cpuSec: +cpuSec.toFixed(1),
        load: load(),
      }),
    );
  }
}

await selectBackend({ prefer: 'wasm' });
if (command === 'train' && dir) await train(dir);
else if (command === 'eval' && dir) await evaluate(dir);
else {
  console.error('usage: tsx bench/sampler-quality.ts train <dir> [--steps N] [--scale-shift] | eval <checkpoint dir>');
  process.exit(2);
}
