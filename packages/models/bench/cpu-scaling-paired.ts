/**
 * 2-worker scaling measured in pairs: one process holds a 1-worker trainer and a W-worker trainer on the same UNet
 * and batch, and alternates their steps (1-worker step, W-worker step, …). Each pair's ratio t₁/t_W is taken under
 * the same machine state a second apart, so the load that other processes (or the VM's neighbours) put on the cores
 * drifts out of it; separate processes measured minutes apart (bench/cpu-parallel.ts) see this machine's step time
 * wander by ±25% between runs. Prints one JSON line: the median pair ratio with its quartiles, each trainer's median
 * step, and the load average.
 *
 * Both trainers warm up first (V8 compiles TF.js' JS per isolate over the first tens of steps). While the 1-worker
 * trainer steps, the W-worker trainer's replica threads wait idle for their next message.
 *
 * Usage: npx tsx packages/models/bench/cpu-scaling-paired.ts [--preset small] [--workers 2] [--batch 32]
 *          [--pairs 20] [--warmup 30] [--note "..."]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.ts';
import { presetConfig, type PresetName } from '../src/diffusion/presets.ts';
import {
  createCpuTrainer,
  DataParallelTrainer,
  type ParallelStepStats,
} from '../src/parallel/data-parallel-trainer.ts';
import { benchImages, benchTrainerConfig, benchUNet, median, quantile } from './harness.ts';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'small' },
    workers: { type: 'string', default: '2' },
    batch: { type: 'string', default: '32' },
    pairs: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '30' },
    note: { type: 'string', default: '' },
  },
});
const preset = args.preset as PresetName;
const workers = Number(args.workers);
const batch = Number(args.batch);
const pairs = Number(args.pairs);
const warmup = Number(args.warmup);

await selectBackend({ prefer: 'wasm', fallback: false });
tf.enableProdMode();
const config = presetConfig(preset);
const images = benchImages(config, batch);
const trainerOver = (n: number) => {
  const model = benchUNet(config);
  return createCpuTrainer(
    { ...benchTrainerConfig(model), microBatch: Math.min(batch, 32) },
    { workers: n, backend: 'wasm' },
  ).then((trainer) => ({ model, trainer }));
};
const one = await trainerOver(1);
const many = await trainerOver(workers);

for (let i = 0; i < warmup; i++) {
  await one.trainer.step({ images });
  await many.trainer.step({ images });
}
const timedStep = async (trainer: typeof one.trainer) => {
  const t0 = performance.now();
  await trainer.step({ images });
  return performance.now() - t0;
};
const t1: number[] = [];
const tN: number[] = [];
const ratios: number[] = [];
const stats: ParallelStepStats[] = [];
const record = () => {
  if (many.trainer instanceof DataParallelTrainer && many.trainer.lastStep) stats.push(many.trainer.lastStep);
};
for (let i = 0; i < pairs; i++) {
  // Alternate which goes first, so neither always runs right after the other.
  let x: number;
  let y: number;
  if (i % 2 === 0) {
    x = await timedStep(one.trainer);
    y = await timedStep(many.trainer);
    record();
  } else {
    y = await timedStep(many.trainer);
    record();
    x = await timedStep(one.trainer);
  }
  t1.push(x);
  tN.push(y);
  ratios.push(x / y);
}
const round = (x: number, d = 3) => +x.toFixed(d);
/** Median over the timed W-worker steps of one number per step (per rank: one median per rank). */
const medianOf = (pick: (s: ParallelStepStats) => number) => round(median(stats.map(pick)), 1);
const perRank = (pick: (s: ParallelStepStats) => number[]) =>
  Array.from({ length: workers }, (_, r) => medianOf((s) => pick(s)[r] ?? 0));
// Where a W-worker step goes (medians): each rank's slice, then the phases after the slowest slice is done.
const breakdown = stats.length
  ? {
      computeMs: perRank((s) => s.computeMs),
      barrierWaitMs: perRank((s) => s.barrierWaitMs),
      dispatchMs: medianOf((s) => s.dispatchMs),
      gradientsMs: medianOf((s) => s.gradientsMs),
      reduceMs: medianOf((s) => s.reduceMs),
      applyMs: medianOf((s) => s.applyMs),
      wallMs: medianOf((s) => s.wallMs),
    }
  : {};
console.log(
  JSON.stringify({
    bench: 'cpu.scaling.paired',
    preset,
    params: one.model.paramCount(),
    batch,
    workers,
    pairs,
    warmup,
    oneWorkerStepMs: round(median(t1), 1),
    workersStepMs: round(median(tN), 1),
    scaling: round(median(ratios)),
    scalingQuartiles: [round(quantile(ratios, 0.25)), round(quantile(ratios, 0.75))],
    scalingOfMedians: round(median(t1) / median(tN)),
    ...breakdown,
    loadAvg: loadavg().map((x) => round(x, 2)),
    ...(args.note ? { note: args.note } : {}),
  }),
);
await one.trainer.close();
await many.trainer.close();
images.dispose();
