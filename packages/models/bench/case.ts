/**
 * One benchmark case in its own process (so peak RSS and the never-shrinking wasm heap belong to it):
 * times the UNet forward pass (one sampling step) and a full training step, prints one JSON line.
 * Usage: tsx bench/case.ts '{"backend":"wasm","preset":"tiny","batch":16,"train":true}'
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../src/backend.ts';
import { presetConfig, type PresetName } from '../src/diffusion/presets.ts';
import { createTrainer } from '../src/diffusion/train.ts';
import { benchImages, benchTrainerConfig, benchUNet, medianTiming, timed, type Timing } from './harness.ts';

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
const model = benchUNet(config);
const x = benchImages(config, args.batch);
const t = tf.fill([args.batch], 500, 'int32') as tf.Tensor1D;

const forward = async () => {
  const y = model.apply(x, t);
  await y.data();
  y.dispose();
};
const trainer = args.train ? createTrainer(benchTrainerConfig(model)) : null;
const trainStep = async () => {
  await trainer!.step({ images: x });
};

// Warm-up (kernel setup, XNNPACK caches, heap growth), then alternating blocks of 3 forward passes and
// 3 train steps: the machine is shared, so both see the same load; each is the median of its calls.
await forward();
if (trainer) await trainStep();
const forwardTimes: Timing[] = [];
const stepTimes: Timing[] = [];
const minRounds = args.minIters ?? 3;
const minMs = (args.minSeconds ?? 2) * 1000;
const block = 3;
const begin = performance.now();
while (forwardTimes.length < minRounds || performance.now() - begin < minMs) {
  for (let i = 0; i < block; i++) forwardTimes.push(await timed(forward));
  if (trainer) for (let i = 0; i < block; i++) stepTimes.push(await timed(trainStep));
  if (forwardTimes.length >= 60) break;
}
const { wall: forwardMs, cpu: forwardCpuMs } = medianTiming(forwardTimes);
const line: Record<string, unknown> = {
  bench: 'diffusion.forward',
  backend: report.backend,
  preset: args.preset,
  params: model.paramCount(),
  batch: args.batch,
  calls: forwardTimes.length,
  forwardMs: +forwardMs.toFixed(1),
  imgPerSec: +((args.batch * 1000) / forwardMs).toFixed(2),
  imgPerCpuSec: +((args.batch * 1000) / forwardCpuMs).toFixed(2),
};
if (trainer) {
  const { wall: stepMs, cpu: stepCpuMs } = medianTiming(stepTimes);
  Object.assign(line, {
    bench: 'diffusion.train',
    stepMs: +stepMs.toFixed(1),
    imgPerSec: +((args.batch * 1000) / stepMs).toFixed(2),
    imgPerCpuSec: +((args.batch * 1000) / stepCpuMs).toFixed(2),
    forwardImgPerSec: +((args.batch * 1000) / forwardMs).toFixed(2),
    forwardImgPerCpuSec: +((args.batch * 1000) / forwardCpuMs).toFixed(2),
    trainOverForward: +(stepMs / forwardMs).toFixed(2),
    trainOverForwardCpu: +(stepCpuMs / forwardCpuMs).toFixed(2),
  });
}
line['peakRssMB'] = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(line));
