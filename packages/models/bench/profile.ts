/**
 * Where a training step's time goes, per kernel, in process CPU time (the machine is shared; wasm runs
 * one thread, so CPU time is the work done). Profiles a forward pass and a full training step of a
 * preset and prints one JSON line per phase with the top kernels (ms per call of the phase).
 * Usage: tsx bench/profile.ts [preset=tiny] [batch=16] [backend=wasm] [reps=3]
 * Env: PROFILE_SHAPES=1 keys kernels by input shapes; PROFILE_TOP=n rows; PROFILE_NO_FIXES=1 keeps the stock
 * wasm Slice/SplitV/Concat; PROFILE_WINOGRAD_TILE=2 keeps the 3×3 convs on Winograd F(2×2, 3×3) (default:
 * F(4×4, 3×3) where it fits); PROFILE_GROUPNORM_OPS=1 runs GroupNorm's forward as TF.js ops. The two
 * cpuUsage calls per kernel inflate the non-kernel part (cpuMs − kernelMs): compare kernel times here, and take
 * whole-step ratios from bench/run.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../src/backend.ts';
import { presetConfig, type PresetName } from '../src/diffusion/presets.ts';
import { createTrainer } from '../src/diffusion/train.ts';
import { installWasmKernelFixes } from '../src/nn/wasm-kernels.ts';
import { setWasmWinograd4 } from '../src/nn/wasm-conv.ts';
import { setWasmGroupNormForward } from '../src/nn/wasm-groupnorm.ts';
import { benchImages, benchTrainerConfig, benchUNet } from './harness.ts';

const [preset = 'tiny', batchArg = '16', backend = 'wasm', repsArg = '3'] = process.argv.slice(2);
const batch = Number(batchArg);
const reps = Number(repsArg);
await selectBackend({ prefer: backend as BackendName, fallback: false });
if (process.env['PROFILE_WINOGRAD_TILE'] === '2') setWasmWinograd4(false);
if (process.env['PROFILE_GROUPNORM_OPS']) setWasmGroupNormForward(false);
if (!process.env['PROFILE_NO_FIXES']) installWasmKernelFixes(); // before wrapping, so the wrapped kernels are the ones used

interface Stat {
  calls: number;
  cpuMs: number;
}
let stats = new Map<string, Stat>();
const keyOf = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): string => {
  if (!process.env['PROFILE_SHAPES']) return name;
  const shapes = Object.values(inputs)
    .map((t) => (t ? `[${t.shape.join(',')}]` : '?'))
    .join('');
  const extra = name === 'Transpose' ? ` perm=${String(attrs['perm'])}` : '';
  return `${name} ${shapes}${extra}`;
};
const wrapped = new WeakSet<object>();
function wrapKernels(): void {
  for (const k of tf.getKernelsForBackend(tf.getBackend())) {
    if (wrapped.has(k)) continue;
    wrapped.add(k);
    const inner = k.kernelFunc;
    (k as { kernelFunc: typeof inner }).kernelFunc = (args) => {
      const c0 = process.cpuUsage();
      const out = inner(args);
      const c = process.cpuUsage(c0);
      const key = keyOf(k.kernelName, args.inputs as Record<string, tf.Tensor>, args.attrs as Record<string, unknown>);
      const s = stats.get(key) ?? { calls: 0, cpuMs: 0 };
      s.calls += 1;
      s.cpuMs += (c.user + c.system) / 1000;
      stats.set(key, s);
      return out;
    };
  }
}
wrapKernels();

const config = presetConfig(preset as PresetName);
const model = benchUNet(config);
const x = benchImages(config, batch);
const t = tf.fill([batch], 500, 'int32') as tf.Tensor1D;
const trainer = createTrainer(benchTrainerConfig(model));

async function phase(name: string, fn: () => Promise<void>): Promise<void> {
  await fn(); // warm-up (registers our own kernels on first use)
  wrapKernels();
  stats = new Map();
  const c0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) await fn();
  const c = process.cpuUsage(c0);
  const totalMs = (c.user + c.system) / 1000 / reps;
  let kernelMs = 0;
  for (const s of stats.values()) kernelMs += s.cpuMs / reps;
  const top = [...stats.entries()]
    .sort((a, b) => b[1].cpuMs - a[1].cpuMs)
    .slice(0, Number(process.env['PROFILE_TOP'] ?? 25))
    .map(([k, s]) => ({ k, calls: s.calls / reps, ms: +(s.cpuMs / reps).toFixed(1) }));
  console.log(
    JSON.stringify({ phase: name, preset, batch, cpuMs: +totalMs.toFixed(1), kernelMs: +kernelMs.toFixed(1), top }),
  );
}

await phase('forward', async () => {
  const y = model.apply(x, t);
  await y.data();
  y.dispose();
});
await phase('train', async () => {
  await trainer.step({ images: x });
});
