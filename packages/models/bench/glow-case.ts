/**
 * One Glow-vs-DDPM benchmark pair in its own process: a Glow preset and the DDPM (UNet) preset of similar
 * parameter count, same backend, same batch, timed in alternating blocks so both see the same load on a shared
 * machine. Prints two JSON lines: training (img/s) and sampling (img/s; Glow = one inverse pass at T = 0.7,
 * DDPM = DDIM with 50 steps), each with the Glow/DDPM ratio measured here.
 * Usage: tsx bench/glow-case.ts '{"backend":"wasm","glow":"glow-tiny","ddpm":"tiny","batch":16}'
 */
import { loadavg } from 'node:os';
import { selectBackend, type BackendName } from '../src/backend.ts';
import { presetConfig, type PresetName } from '../src/diffusion/presets.ts';
import { ddimSample } from '../src/diffusion/samplers/ddim.ts';
import { createTrainer } from '../src/diffusion/train.ts';
import { createGlow } from '../src/glow/model.ts';
import { GLOW_TRAINING_DEFAULTS, glowPresetConfig, type GlowPresetName } from '../src/glow/presets.ts';
import { glowSample } from '../src/glow/sample.ts';
import { createGlowTrainer } from '../src/glow/train.ts';
import { Rng } from '../src/rng.ts';
import { benchImages, benchTrainerConfig, benchUNet, medianTiming, timed, type Timing } from './harness.ts';

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
const images = benchImages({ resolution: r, channels: 3 }, b);

const glow = createGlow(glowConfig, 0);
const glowTrainer = createGlowTrainer({
  model: glow,
  optimizer: { kind: 'adam' },
  lr: { base: GLOW_TRAINING_DEFAULTS.lr, warmupSteps: GLOW_TRAINING_DEFAULTS.warmupSteps },
  clipNorm: GLOW_TRAINING_DEFAULTS.clipNorm,
  ema: { maxDecay: GLOW_TRAINING_DEFAULTS.emaDecay },
  rng: new Rng(3),
});
const unet = benchUNet(unetConfig);
const ddpmTrainerConfig = benchTrainerConfig(unet);
const { schedule } = ddpmTrainerConfig;
const ddpmTrainer = createTrainer(ddpmTrainerConfig);
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
const glowTimes: Timing[] = [];
const ddpmTimes: Timing[] = [];
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
const { wall: glowMs, cpu: glowCpuMs } = medianTiming(glowTimes);
const { wall: ddpmMs, cpu: ddpmCpuMs } = medianTiming(ddpmTimes);
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
const glowSampleTimes: Timing[] = [];
const ddimTimes: Timing[] = [];
for (let i = 0; i < (args.sampleCalls ?? 2); i++) {
  glowSampleTimes.push(await timed(glowSampleOnce));
  ddimTimes.push(await timed(ddimOnce));
  glowSampleTimes.push(await timed(glowSampleOnce));
}
const { wall: gs, cpu: gsCpu } = medianTiming(glowSampleTimes);
const { wall: dd, cpu: ddCpu } = medianTiming(ddimTimes);
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
