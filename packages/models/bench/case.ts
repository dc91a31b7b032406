/**
 * One benchmark case in its own process (so peak RSS and the never-shrinking wasm heap belong to it):
 * times the UNet forward pass (one sampling step) and a full training step, prints one JSON line.
 * Usage: tsx bench/case.ts '{"backend":"wasm","preset":"tiny","batch":16,"train":true}'
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../src/backend.ts';
import { presetConfig, type PresetName } from '../src/diffusion/presets.ts';
import { Rng } from '../src/rng.ts';
import { makeSchedule } from '../src/diffusion/schedule.ts';
import { createTrainer } from '../src/diffusion/train.ts';
import { createUNet } from '../src/diffusion/unet.ts';

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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Wall and CPU milliseconds of one call. wasm runs one thread, so CPU time is the work done and stays
 * meaningful when other jobs share the 2 cores (wall time then includes waiting for a core).
 */
async function timed(fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await fn();
  const cpu = process.cpuUsage(cpu0);
  return { wall: performance.now() - start, cpu: (cpu.user + cpu.system) / 1000 };
}

const forward = async () => {
  const y = model.apply(x, t);
  await y.data();
  y.dispose();
};
const trainer = args.train
  ? createTrainer({
      model,
      schedule: makeSchedule({ kind: 'linear' }),
      prediction: 'eps',
      optimizer: { kind: 'adam' },
      lr: 1e-4,
      clipNorm: 1,
      rng: new Rng(3),
    })
  : null;
const trainStep = async () => {
  await trainer!.step({ images: x });
};

// Warm-up (kernel setup, XNNPACK caches, heap growth), then alternating blocks of 3 forward passes and
// 3 train steps: the machine is shared, so both see the same load; each is the median of its calls.
await forward();
if (trainer) await trainStep();
const forwardTimes: { wall: number; cpu: number }[] = [];
const stepTimes: { wall: number; cpu: number }[] = [];
const minRounds = args.minIters ?? 3;
const minMs = (args.minSeconds ?? 2) * 1000;
const block = 3;
const begin = performance.now();
while (forwardTimes.length < minRounds || performance.now() - begin < minMs) {
  for (let i = 0; i < block; i++) forwardTimes.push(await timed(forward));
  if (trainer) for (let i = 0; i < block; i++) stepTimes.push(await timed(trainStep));
  if (forwardTimes.length >= 60) break;
}
const forwardMs = median(forwardTimes.map((x) => x.wall));
const forwardCpuMs = median(forwardTimes.map((x) => x.cpu));
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
  const stepMs = median(stepTimes.map((x) => x.wall));
  const stepCpuMs = median(stepTimes.map((x) => x.cpu));
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
