/**
 * One Glow-vs-DDPM benchmark pair in its own process: a Glow preset and the DDPM (UNet) preset of similar
 * parameter count, same backend, same batch, timed in alternating blocks so both see the same load on a shared
 * machine. Prints two JSON lines: training (img/s) and sampling (img/s; Glow = one inverse pass at T = 0.7,
 * DDPM = DDIM with 50 steps), each with the Glow/DDPM ratio measured here.
 * Usage: tsx bench/glow-case.ts '{"backend":"wasm","glow":"glow-tiny","ddpm":"tiny","batch":16}'
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../src/backend.ts';
import { presetConfig, type PresetName } from '../src/diffusion/presets.ts';
import { ddimSample } from '../src/diffusion/samplers/ddim.ts';
import { makeSchedule } from '../src/diffusion/schedule.ts';
import { createTrainer } from '../src/diffusion/train.ts';
import { createUNet } from '../src/diffusion/unet.ts';
import { createGlow } from '../src/glow/model.ts';
import { GLOW_TRAINING_DEFAULTS, glowPresetConfig, type GlowPresetName } from '../src/glow/presets.ts';
import { glowSample } from '../src/glow/sample.ts';
import { createGlowTrainer } from '../src/glow/train.ts';
import { Rng } from '../src/rng.ts';

interface PairArgs {
  backend: BackendName;
  glow: GlowPresetName;
  ddpm: PresetName;
  batch: number;
  /** Timed training steps per model (alternating blocks of 3); default 9. */
  trainSteps?: number;
  /** Timed sampling calls per model (alternating); default 2. */
  sampleCalls?: number;
  /** Images per sampling call; default batch. */
  sampleCount?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as PairArgs;
const report = await selectBackend({ prefer: args.backend, fallback: false });
const glowConfig = glowPresetConfig(args.glow);
const unetConfig = presetConfig(args.ddpm);
if (glowConfig.resolution !== unetConfig.resolution)
  throw new Error(
    `${args.glow} (${glowConfig.resolution}px) and ${args.ddpm} (${unetConfig.resolution}px) differ in size`,
  );
const r = glowConfig.resolution;
const b = args.batch;
const images = tf.tidy(() => tf.clipByValue(new Rng(2).normal([b, r, r, 3]), -1, 1)) as tf.Tensor4D;

const glow = createGlow(glowConfig, 0);
const glowTrainer = createGlowTrainer({
  model: glow,
  optimizer: { kind: 'adam' },
  lr: { base: GLOW_TRAINING_DEFAULTS.lr, warmupSteps: GLOW_TRAINING_DEFAULTS.warmupSteps },
  clipNorm: GLOW_TRAINING_DEFAULTS.clipNorm,
  ema: { maxDecay: GLOW_TRAINING_DEFAULTS.emaDecay },
  rng: new Rng(3),
});
const unet = createUNet(unetConfig, 0);
// Move the zero-initialised output layers off zero so the timed work is representative (as bench/case.ts).
for (const v of unet.variables.values()) v.assign(tf.tidy(() => tf.add(v, new Rng(1).normal(v.shape).mul(0.02))));
const schedule = makeSchedule({ kind: 'linear' });
const ddpmTrainer = createTrainer({
  model: unet,
  schedule,
  prediction: 'eps',
  optimizer: { kind: 'adam' },
  lr: 1e-4,
  clipNorm: 1,
  rng: new Rng(3),
});

/** Wall and process-CPU milliseconds of one call (wasm runs one thread: CPU time is the work done). */
async function timed(fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await fn();
  const cpu = process.cpuUsage(cpu0);
  return { wall: performance.now() - start, cpu: (cpu.user + cpu.system) / 1000 };
}
const median = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)]!;
const rate = (n: number, ms: number) => +((n * 1000) / ms).toFixed(2);

const glowStep = async () => {
  await glowTrainer.step({ images });
};
const ddpmStep = async () => {
  await ddpmTrainer.step({ images });
};
// Warm-up (kernel setup, caches, heap growth; the Glow's data-dependent init happens here).
await glowStep();
await ddpmStep();
const glowTimes: { wall: number; cpu: number }[] = [];
const ddpmTimes: { wall: number; cpu: number }[] = [];
const trainSteps = args.trainSteps ?? 9;
while (glowTimes.length < trainSteps) {
  for (let i = 0; i < 3; i++) glowTimes.push(await timed(glowStep));
  for (let i = 0; i < 3; i++) ddpmTimes.push(await timed(ddpmStep));
}
const load = loadavg().map((x) => +x.toFixed(2));
const common = {
  backend: report.backend,
  glowPreset: args.glow,
  ddpmPreset: args.ddpm,
  glowParams: glow.paramCount(),
  ddpmParams: unet.paramCount(),
  resolution: r,
};
const glowMs = median(glowTimes.map((t) => t.wall));
const ddpmMs = median(ddpmTimes.map((t) => t.wall));
const glowCpuMs = median(glowTimes.map((t) => t.cpu));
const ddpmCpuMs = median(ddpmTimes.map((t) => t.cpu));
console.log(
  JSON.stringify({
    bench: 'glow.train',
    ...common,
    batch: b,
    steps: glowTimes.length,
    glowStepMs: +glowMs.toFixed(1),
    ddpmStepMs: +ddpmMs.toFixed(1),
    glowImgPerSec: rate(b, glowMs),
    ddpmImgPerSec: rate(b, ddpmMs),
    glowImgPerCpuSec: rate(b, glowCpuMs),
    ddpmImgPerCpuSec: rate(b, ddpmCpuMs),
    glowOverDdpm: +(ddpmMs / glowMs).toFixed(2),
    glowOverDdpmCpu: +(ddpmCpuMs / glowCpuMs).toFixed(2),
    loadAvg: load,
  }),
);
glowTrainer.ema!.copyTo(glow.variables);

const count = args.sampleCount ?? b;
const glowSampleOnce = async () => {
  const x = await glowSample({ model: glow, count, seed: 1, temperature: 0.7 });
  await x.data();
  x.dispose();
};
const ddimOnce = async () => {
  const x = await ddimSample({
    denoiser: (xt, t) => unet.apply(xt, t),
    schedule,
    prediction: 'eps',
    shape: [count, r, r, 3],
    seed: 1,
    steps: 50,
  });
  await x.data();
  x.dispose();
};
await glowSampleOnce();
const glowSampleTimes: { wall: number; cpu: number }[] = [];
const ddimTimes: { wall: number; cpu: number }[] = [];
for (let i = 0; i < (args.sampleCalls ?? 2); i++) {
  glowSampleTimes.push(await timed(glowSampleOnce));
  ddimTimes.push(await timed(ddimOnce));
  glowSampleTimes.push(await timed(glowSampleOnce));
}
const gs = median(glowSampleTimes.map((t) => t.wall));
const dd = median(ddimTimes.map((t) => t.wall));
const gsCpu = median(glowSampleTimes.map((t) => t.cpu));
const ddCpu = median(ddimTimes.map((t) => t.cpu));
console.log(
  JSON.stringify({
    bench: 'glow.sample',
    ...common,
    count,
    glowSampleMs: +gs.toFixed(1),
    ddim50Ms: +dd.toFixed(1),
    glowSampleImgPerSec: rate(count, gs),
    ddim50ImgPerSec: rate(count, dd),
    glowSampleImgPerCpuSec: rate(count, gsCpu),
    ddim50ImgPerCpuSec: rate(count, ddCpu),
    glowSpeedupOverDdim50: +(dd / gs).toFixed(1),
    glowSpeedupOverDdim50Cpu: +(ddCpu / gsCpu).toFixed(1),
    loadAvg: loadavg().map((x) => +x.toFixed(2)),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
