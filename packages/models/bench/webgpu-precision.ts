/**
 * fp32 against mixed-f16 (f16 conv tiles + dynamic loss scaling) on the same short training run: the same UNet,
 * seed and fixed batch (4 images, the same t and noise every step), one after the other in this process. Prints one
 * JSON line: each run's first and final loss, the largest weight difference between the two, the final loss scale
 * and the skipped steps. On a software adapter (lavapipe) this checks what mixed precision does to training, not
 * its speed: no times are reported.
 * Usage: tsx bench/webgpu-precision.ts [--steps 20] [--levels 1|2]
 */
import { loadavg } from 'node:os';
import { selectBackend } from '../src/backend.ts';
import { takeWebGpuErrors } from '../src/backend/webgpu.ts';
import { presetConfig } from '../src/diffusion/presets.ts';
import { f16GemmDispatches } from '../src/nn/webgpu/conv.ts';
import { trainFixedBatch } from './fixed-batch-run.ts';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const steps = Number(arg('steps', '20'));
const levels = Number(arg('levels', '1'));
if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`--steps must be a whole number ≥ 1, got ${steps}`);
if (levels !== 1 && levels !== 2) throw new RangeError(`--levels must be 1 or 2, got ${levels}`);

const report = await selectBackend({ prefer: 'webgpu', fallback: false });
const adapter = report.adapter!;
// loss-scale.test.ts' model (levels 1) or training.test.ts' (levels 2).
const config = presetConfig('tiny', {
  channels: 1,
  resolution: 8,
  channelMults: levels === 1 ? [1] : [1, 2],
  dropout: 0,
});
takeWebGpuErrors();
const fp32 = await trainFixedBatch('fp32', config, steps);
const f16Before = f16GemmDispatches();
const mixed = await trainFixedBatch('mixed-f16', config, steps);
// GEMM dispatches with f16 tiles during the mixed-f16 run: 0 would mean the precision was asked for but never ran.
const f16Gemms = f16GemmDispatches() - f16Before;
let maxWeightDiff = 0;
let maxWeight = 0;
fp32.weights.forEach((w, i) => {
  maxWeightDiff = Math.max(maxWeightDiff, Math.abs(w - mixed.weights[i]!));
  maxWeight = Math.max(maxWeight, Math.abs(w));
});
const losses = (r: typeof fp32) => r.metrics.map((m) => +m.loss.toFixed(4));
const last = mixed.metrics[mixed.metrics.length - 1]!;
console.log(
  JSON.stringify({
    bench: 'diffusion.webgpu.precision',
    model: `tiny 8×8×1, channelMults [${config.channelMults.join(', ')}]`,
    steps,
    batch: 4,
    precision: mixed.precision.active,
    fp32: { firstLoss: losses(fp32)[0], finalLoss: losses(fp32).at(-1) },
    mixedF16: { firstLoss: losses(mixed)[0], finalLoss: losses(mixed).at(-1) },
    maxWeightDiff: +maxWeightDiff.toExponential(3),
    maxAbsWeight: +maxWeight.toFixed(4),
    lossScale: last.lossScale ?? null,
    skippedSteps: last.skippedSteps ?? null,
    f16GemmDispatches: f16Gemms,
    webgpuErrors: takeWebGpuErrors().length,
    adapter: `${adapter.vendor} ${adapter.architecture} ${adapter.description}`,
    features: adapter.deviceFeatures,
    loadAvg1m: +loadavg()[0]!.toFixed(2),
  }),
);
process.exit(0);
