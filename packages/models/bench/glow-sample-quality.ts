/**
 * Do a Glow's samples show the data's shapes? Reproduces the dashboard report "glow-tiny samples are only
 * backgrounds" in-process, as JSON lines.
 *
 *   tsx bench/glow-sample-quality.ts [--steps 800] [--batch 32] [--every 200] [--res 16] [--lr 1e-3]
 *     [--warmup 200] [--ema 0.999] [--nbits 8] [--coupling affine] [--depth 4] [--levels 2] [--uncond] [--seed 1]
 *     [--tag name] [--png path-prefix] [--ddpm]
 *
 * Data (twoShapes): 2,000 images in two classes, like the user's upload: class 0 a red disc on a dark teal
 * background, class 1 a blue square on a light beige one, each at a random position and size with a little
 * shade jitter. glow-tiny (class-conditional unless --uncond) trains with the run defaults
 * (GLOW_TRAINING_DEFAULTS: Adam 1e-3, 200 warm-up steps, clip 50, EMA 0.999, batch 32). Every `every` steps,
 * from the EMA weights (what the grid samples):
 * - `shapeRate[T]`: share of 64 samples per class at T whose count of shape-coloured pixels (within 0.3 of the
 *   class's shape colour in every channel, in [-1, 1]) lies in [½·min, 1.5·max] of the data's counts for the
 *   class; the data itself scores 1. `bgRate[T]`: share whose pixels are ≥ 90 % background colour.
 * - `heldOutBpd`: bits/dim of 256 held-out images.
 * - `recon`: max |decode(encode(x)) − x| (8-bit units) on held-out images, and `epsRoundTrip`: max |y −
 *   decodeEps(encodeEps(y), T = 1)| — whether sampling inverts encoding, priors included.
 * - `eps`: per level and class, mean and std of the held-out images' ε = (z − mean)/σ under their priors
 *   (what sampling draws as N(0, 1)).
 * `--ddpm`: the same data and metric for the UNet `tiny` preset (DDPM run defaults, DDIM-50), the baseline.
 * The line says the load average: wall times depend on it (2 cores shared).
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { selectBackend } from '../src/backend.ts';
import { dequantize } from '../src/glow/data.ts';
import { evaluateBitsPerDim } from '../src/glow/evaluate.ts';
import { createGlow } from '../src/glow/model.ts';
import { GLOW_TRAINING_DEFAULTS, glowPresetConfig } from '../src/glow/presets.ts';
import { glowDecode, glowEncode, glowSample } from '../src/glow/sample.ts';
import { createGlowTrainer } from '../src/glow/train.ts';
import { imageGrid, toUint8Images } from '../src/diffusion/samplers/images.ts';
import { presetConfig } from '../src/diffusion/presets.ts';
import { ddimSample } from '../src/diffusion/samplers/ddim.ts';
import { makeSchedule } from '../src/diffusion/schedule.ts';
import { trainLabelled } from '../src/diffusion/testing/train-labelled.ts';
import { createTrainer } from '../src/diffusion/train.ts';
import { createUNet } from '../src/diffusion/unet.ts';
import { Rng } from '../src/rng.ts';
import { ddpmRunTrainerConfig } from './harness.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const load = () => +os.loadavg()[0]!.toFixed(2);

const STEPS = Number(option('steps', '800'));
const BATCH = Number(option('batch', String(GLOW_TRAINING_DEFAULTS.batchSize)));
const EVERY = Number(option('every', '200'));
const RES = Number(option('res', '16'));
const LR = Number(option('lr', String(GLOW_TRAINING_DEFAULTS.lr)));
const WARMUP = Number(option('warmup', String(GLOW_TRAINING_DEFAULTS.warmupSteps)));
const EMA = Number(option('ema', String(GLOW_TRAINING_DEFAULTS.emaDecay)));
const NBITS = Number(option('nbits', '8'));
const SEED = Number(option('seed', '1'));
const COND = !argv.includes('--uncond');
const COUPLING = option('coupling', 'affine') as 'affine' | 'additive';
const DEPTH = Number(option('depth', '4'));
const LEVELS = Number(option('levels', '2'));
const TAG = option('tag', '');
const PNG = option('png', '');
const TEMPERATURES = [0.7, 1.0];
const PER_CLASS = 64;

/** Per class: shape colour and background colour in [-1, 1]. */
const CLASSES = [
  { shape: [0.85, -0.75, -0.75], bg: [-0.7, -0.2, -0.3] }, // red disc on dark teal
  { shape: [-0.75, -0.55, 0.85], bg: [0.6, 0.5, 0.2] }, // blue square on beige
] as const;

function twoShapes(n: number, res: number, seed: number): { images: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const images = new Float32Array(n * res * res * 3);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniformArray(6);
    const cls = u[0]! < 0.5 ? 0 : 1;
    labels[i] = cls;
    const r = res * (0.15 + 0.12 * u[1]!); // radius / half side
    const cx = r + u[2]! * (res - 2 * r);
    const cy = r + u[3]! * (res - 2 * r);
    const shade = 0.05 * (u[4]! - 0.5);
    const bgShade = 0.05 * (u[5]! - 0.5);
    const { shape, bg } = CLASSES[cls];
    for (let y = 0; y < res; y++)
      for (let x = 0; x < res; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const on = cls === 0 ? dx * dx + dy * dy <= r * r : Math.abs(dx) <= r && Math.abs(dy) <= r;
        const o = ((i * res + y) * res + x) * 3;
        for (let c = 0; c < 3; c++) images[o + c] = on ? shape[c]! + shade : bg[c]! + bgShade;
      }
  }
  return { images, labels };
}

/** Per image: pixels within `tol` of `colour` in every channel. */
function colourCounts(pixels: Float32Array, count: number, res: number, colour: readonly number[], tol = 0.3) {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    let k = 0;
    for (let p = 0; p < res * res; p++) {
      const o = (i * res * res + p) * 3;
      if ([0, 1, 2].every((c) => Math.abs(pixels[o + c]! - colour[c]!) < tol)) k++;
    }
    out.push(k);
  }
  return out;
}

/** Rows of 16 samples (per temperature, per class) and two rows of data, as a PNG (sharp, loaded only here). */
async function writeGrid(rows: tf.Tensor4D[], path: string): Promise<void> {
  const dataRows = [0, 1].map((k) => {
    const idx = [...held.labels.keys()].filter((i) => held.labels[i] === k).slice(0, 16);
    return tf.gather(heldX, idx) as tf.Tensor4D;
  });
  const all = tf.concat([...dataRows, ...rows]) as tf.Tensor4D;
  const n = all.shape[0];
  const pixels = await toUint8Images(all);
  const grid = imageGrid(pixels, [n, RES, RES, 3], { padding: 1, cols: 16, rows: n / 16 });
  tf.dispose([all, ...dataRows]);
  const { default: sharp } = await import('sharp');
  await sharp(Buffer.from(grid.pixels), { raw: { width: grid.width, height: grid.height, channels: 3 } })
    .resize({ width: grid.width * 4, kernel: 'nearest' })
    .png()
    .toFile(path);
}

const report = await selectBackend({ prefer: 'wasm' });
const config = glowPresetConfig('glow-tiny', {
  resolution: RES,
  nBits: NBITS,
  coupling: COUPLING,
  depth: DEPTH,
  levels: LEVELS,
  ...(COND ? { numClasses: 2 } : {}),
});
const train = twoShapes(2000, RES, SEED);
const held = twoShapes(256, RES, SEED + 1000);
const trainX = tf.tensor4d(train.images, [2000, RES, RES, 3]);
const trainL = tf.tensor1d(train.labels, 'int32');
const heldX = tf.tensor4d(held.images, [256, RES, RES, 3]);
const heldL = tf.tensor1d(held.labels, 'int32');

// The data's own shape-pixel counts per class: the range a sample must fall in.
const ranges = CLASSES.map((cls, k) => {
  const idx = [...train.labels.keys()].filter((i) => train.labels[i] === k);
  const counts = idx.map((i) => colourCounts(train.images.subarray(i * RES * RES * 3), 1, RES, cls.shape)[0]!);
  return { lo: 0.5 * Math.min(...counts), hi: 1.5 * Math.max(...counts) };
});

/** Share of `count` samples of class k with a shape of the data's size; share that are ≥ 90 % background. */
function sampleScores(px: Float32Array, count: number, k: number) {
  const shapes = colourCounts(px, count, RES, CLASSES[k]!.shape);
  const bgs = colourCounts(px, count, RES, CLASSES[k]!.bg);
  const { lo, hi } = ranges[k]!;
  // Samples whose inverse pass blew up: a quarter of their values at the extreme bins (the data has none there).
  let blownUp = 0;
  const size = RES * RES * 3;
  for (let i = 0; i < count; i++) {
    let extreme = 0;
    for (let j = i * size; j < (i + 1) * size; j++) if (!(Math.abs(px[j]!) < 0.99)) extreme++;
    if (extreme > size / 4) blownUp++;
  }
  return {
    blownUp: blownUp / count,
    shapeRate: shapes.filter((c) => c >= lo && c <= hi).length / count,
    bgRate: bgs.filter((c) => c >= 0.9 * RES * RES).length / count,
    median: [...shapes].sort((a, b) => a - b)[count >> 1]!,
  };
}

let started = performance.now();
if (argv.includes('--ddpm')) await ddpmBaseline();

/**
 * The same data and metric for the UNet `tiny` preset (class-conditional, the DDPM run defaults: AdamW 2e-4,
 * clip 1, EMA 0.9999 with warm-up, label dropout 0.1, cosine schedule, ε-prediction), sampled with DDIM-50.
 */
async function ddpmBaseline(): Promise<never> {
  const unet = createUNet(presetConfig('tiny', { resolution: RES, channels: 3, numClasses: 2 }), SEED);
  const schedule = makeSchedule({ kind: 'cosine', T: 1000 });
  const trainer = createTrainer(ddpmRunTrainerConfig(unet, schedule, SEED + 7));
  const shadow = createUNet(unet.config, 0);
  let trainMs = 0;
  started = performance.now();
  await trainLabelled(
    trainer,
    { images: trainX, labels: trainL },
    {
      steps: STEPS,
      batch: BATCH,
      order: new Rng(SEED + 11),
      onStep: async (step) => {
        if (step % EVERY !== 0 && step !== STEPS) return;
        trainMs += performance.now() - started;
        trainer.ema!.copyTo(shadow.variables);
        const scores = [];
        for (const k of [0, 1]) {
          const labels = tf.fill([PER_CLASS], k, 'int32') as tf.Tensor1D;
          const x = await ddimSample({
            denoiser: (xt, t, l) => shadow.apply(xt, t, l),
            schedule,
            prediction: 'eps',
            shape: [PER_CLASS, RES, RES, 3],
            seed: 99,
            labels,
            steps: 50,
          });
          scores.push(sampleScores(x.dataSync() as Float32Array, PER_CLASS, k));
          tf.dispose([labels, x]);
        }
        console.log(
          JSON.stringify({
            bench: 'glow-sample-quality',
            tag: TAG,
            backend: report.backend,
            preset: 'tiny (DDPM)',
            res: RES,
            batch: BATCH,
            step,
            shapeRate: { ddim50: scores.map((r) => r.shapeRate) },
            bgRate: { ddim50: scores.map((r) => r.bgRate) },
            medianShapePixels: { ddim50: scores.map((r) => r.median) },
            blownUp: { ddim50: scores.map((r) => r.blownUp) },
            trainSec: +(trainMs / 1000).toFixed(1),
            cpuSec: +(process.cpuUsage().user / 1e6).toFixed(1),
            loadavg: load(),
          }),
        );
        started = performance.now();
      },
    },
  );
  process.exit(0);
}
const model = createGlow(config, SEED);
const rng = new Rng(SEED + 7);
const trainer = createGlowTrainer({
  model,
  optimizer: { kind: 'adam' },
  lr: { base: LR, warmupSteps: WARMUP },
  clipNorm: GLOW_TRAINING_DEFAULTS.clipNorm,
  ema: EMA > 0 ? { maxDecay: EMA } : false,
  rng,
});
const copy = createGlow(config, 0);

async function evaluate(step: number, trainSec: number, lastLoss: number): Promise<void> {
  if (trainer.ema) trainer.ema.copyTo(copy.variables);
  else for (const [name, v] of model.variables) copy.variables.get(name)!.assign(v);
  copy.markInitialized();
  const bpd = await evaluateBitsPerDim({ model: copy, images: heldX, ...(COND ? { labels: heldL } : {}), seed: 5 });
  // Round trips: images → latents → images, and flow values → prior noise → flow values.
  const x64 = heldX.slice([0, 0, 0, 0], [64, -1, -1, -1]) as tf.Tensor4D;
  const l64 = heldL.slice([0], [64]) as tf.Tensor1D;
  const lat = glowEncode(copy, x64);
  const back = glowDecode(copy, lat);
  const recon = tf.tidy(() => tf.max(tf.abs(tf.sub(back, x64))).dataSync()[0]! * 127.5);
  const y = dequantize(x64, NBITS, 'center');
  const eps = copy.encodeEps(y, COND ? l64 : undefined);
  // The same with the training's uniform dequantization noise: what the priors were fitted to.
  const noise = new Rng(17).uniform(x64.shape) as tf.Tensor4D;
  const yNoisy = dequantize(x64, NBITS, noise);
  const epsNoisy = copy.encodeEps(yNoisy, COND ? l64 : undefined);
  tf.dispose([noise, yNoisy]);
  const yBack = copy.decodeEps(eps, { ...(COND ? { labels: l64 } : {}), temperature: 1 });
  const epsRoundTrip = tf.tidy(() => tf.max(tf.abs(tf.sub(yBack, y))).dataSync()[0]!);
  const heldLabels = Array.from(l64.dataSync());
  const stats = (all: tf.Tensor4D[]) =>
    all
      .map((e, level) =>
        [0, 1].map((k) => {
          const idx = heldLabels.flatMap((l, i) => (l === k ? [i] : []));
          return tf.tidy(() => {
            const sel = tf.gather(e, idx);
            const { mean, variance } = tf.moments(sel);
            const std = Math.sqrt(variance.dataSync()[0]!);
            // Excess kurtosis: 0 for a Gaussian; large when a few values (the shape's) sit far out in the tails.
            const kurt = tf.mean(tf.pow(tf.sub(sel, mean), 4)).dataSync()[0]! / std ** 4 - 3;
            return {
              level,
              cls: k,
              mean: +mean.dataSync()[0]!.toFixed(3),
              std: +std.toFixed(3),
              kurt: +kurt.toFixed(2),
            };
          });
        }),
      )
      .flat();
  const epsCentre = stats(eps);
  const epsDequantized = stats(epsNoisy);
  tf.dispose([x64, l64, ...lat, back, y, ...eps, ...epsNoisy, yBack]);

  const gridRows: tf.Tensor4D[] = [];
  const shapeRate: Record<string, number[]> = {};
  const bgRate: Record<string, number[]> = {};
  const medianShapePixels: Record<string, number[]> = {};
  const blownUp: Record<string, number[]> = {};
  for (const t of TEMPERATURES) {
    shapeRate[t] = [];
    bgRate[t] = [];
    medianShapePixels[t] = [];
    blownUp[t] = [];
    for (const k of [0, 1]) {
      const s = await glowSample({
        model: copy,
        count: PER_CLASS,
        seed: 99,
        temperature: t,
        ...(COND ? { labels: new Array<number>(PER_CLASS).fill(k) } : {}),
      });
      const px = s.dataSync() as Float32Array;
      gridRows.push(s.slice([0, 0, 0, 0], [16, -1, -1, -1]));
      s.dispose();
      const r = sampleScores(px, PER_CLASS, k);
      shapeRate[t].push(r.shapeRate);
      bgRate[t].push(r.bgRate);
      medianShapePixels[t].push(r.median);
      blownUp[t].push(r.blownUp);
    }
  }
  if (PNG && step === STEPS) await writeGrid(gridRows, `${PNG}-step${step}.png`);
  tf.dispose(gridRows);
  console.log(
    JSON.stringify({
      bench: 'glow-sample-quality',
      tag: TAG,
      backend: report.backend,
      preset: 'glow-tiny',
      res: RES,
      nBits: NBITS,
      coupling: COUPLING,
      depth: DEPTH,
      levels: LEVELS,
      params: copy.paramCount(),
      conditional: COND,
      batch: BATCH,
      lr: LR,
      warmup: WARMUP,
      ema: EMA,
      step,
      trainLoss: +lastLoss.toFixed(3),
      heldOutBpd: +bpd.mean.toFixed(3),
      shapeRate,
      bgRate,
      medianShapePixels,
      blownUp,
      shapePixelRange: ranges,
      recon8bit: recon,
      epsRoundTrip,
      epsCentre,
      epsDequantized,
      trainSec: +trainSec.toFixed(1),
      cpuSec: +(process.cpuUsage().user / 1e6).toFixed(1),
      loadavg: load(),
    }),
  );
}

const order = new Rng(SEED + 11);
let trainMs = 0;
for (let step = 0; step < STEPS; step++) {
  const t0 = performance.now();
  const idx = tf.tensor1d(order.uniformIntArray(BATCH, 2000), 'int32');
  const images = tf.gather(trainX, idx) as tf.Tensor4D;
  const labels = tf.gather(trainL, idx) as tf.Tensor1D;
  const m = await trainer.step(COND ? { images, labels } : { images });
  tf.dispose([idx, images, labels]);
  trainMs += performance.now() - t0;
  if (m.skipped) console.log(JSON.stringify({ step: m.step, skipped: true, gradNorm: m.gradNorm }));
  if (m.step % EVERY === 0 || step === STEPS - 1) await evaluate(m.step, trainMs / 1000, m.bitsPerDim);
}
