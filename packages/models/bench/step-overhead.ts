/**
 * The per-step fixed cost of wasm training, which every data-parallel worker pays on its slice: the TF.js ops
 * dispatched per step (counted) and the thread CPU time of a training step at batch 1, 16 and 32. From those,
 * `fixedCpuMs` = 2·T(16) − T(32) (the part that does not shrink with the slice) and the 2-worker scaling it
 * allows at a global batch of 32, T(32) / T(16), before any exchange cost (bench/cpu-parallel.ts measures that).
 * Each toggle named in --toggles is switched off and on in alternation within this one process, step by step, so
 * both sides see the same load; every line says the load average (the machine is shared with other agents).
 * Toggles: `sums` (wasm-sum.ts' channel-sum kernels), `rows` (wasm row copies in Slice/SplitV/Concat).
 * Usage: tsx bench/step-overhead.ts [--preset tiny] [--reps 5] [--toggles sums,rows] [--note ...]
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.ts';
import { presetConfig, type PresetName } from '../src/diffusion/presets.ts';
import { createTrainer } from '../src/diffusion/train.ts';
import { setWasmRowCopies } from '../src/nn/wasm-kernels.ts';
import { setWasmSums } from '../src/nn/wasm-sum.ts';
import { threadCpuMs } from '../src/parallel/thread-cpu.ts';
import { benchImages, benchTrainerConfig, benchUNet } from './harness.ts';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const preset = opt('preset', 'tiny') as PresetName;
const reps = Number(opt('reps', '5'));
const note = opt('note', '');
/** What each toggle switches: off is the state before the change it names. */
const TOGGLES: Record<string, (on: boolean) => void> = { sums: setWasmSums, rows: setWasmRowCopies };
const toggles = opt('toggles', '').split(',').filter(Boolean);
for (const t of toggles)
  if (!TOGGLES[t]) throw new Error(`unknown toggle ${t} (known: ${Object.keys(TOGGLES).join(', ')})`);
const variants = toggles.length ? [false, true] : [true];
const setAll = (on: boolean) => toggles.forEach((t) => TOGGLES[t]!(on));

await selectBackend({ prefer: 'wasm', fallback: false });
tf.enableProdMode();
const config = presetConfig(preset);
const model = benchUNet(config);
const batches = [1, 16, 32];
const images = new Map(batches.map((b) => [b, benchImages(config, b)]));
const trainer = createTrainer(benchTrainerConfig(model));

// Kernel calls per step, counted on one untimed step per variant. Our own kernels register on first use: one
// step of each variant first, so that they are wrapped too.
for (const on of variants) {
  setAll(on);
  await trainer.step({ images: images.get(1)! });
}
let calls = 0;
let counting = false;
for (const k of tf.getKernelsForBackend('wasm')) {
  const inner = k.kernelFunc;
  (k as { kernelFunc: typeof inner }).kernelFunc = (args) => {
    if (counting) calls++;
    return inner(args);
  };
}
const opsPerStep = new Map<boolean, number>();
for (const on of variants) {
  setAll(on);
  await trainer.step({ images: images.get(16)! }); // warm-up (registers kernels on first use)
  calls = 0;
  counting = true;
  await trainer.step({ images: images.get(16)! });
  counting = false;
  opsPerStep.set(on, calls);
}

const cpu = new Map<string, number[]>();
for (let i = 0; i < reps; i++)
  for (const b of batches)
    for (const on of variants) {
      setAll(on);
      const c0 = threadCpuMs()!;
      await trainer.step({ images: images.get(b)! });
      const key = `${on}:${b}`;
      cpu.set(key, [...(cpu.get(key) ?? []), threadCpuMs()! - c0]);
    }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const on of variants) {
  const t = Object.fromEntries(batches.map((b) => [b, median(cpu.get(`${on}:${b}`)!)]));
  console.log(
    JSON.stringify({
      bench: 'wasm.step.overhead',
      preset,
      variant: toggles.length ? `${toggles.join('+')} ${on ? 'on' : 'off'}` : 'current',
      opsPerStep: opsPerStep.get(on),
      stepThreadCpuMs: Object.fromEntries(batches.map((b) => [`b${b}`, +t[b]!.toFixed(1)])),
      fixedCpuMs: +(2 * t[16]! - t[32]!).toFixed(1),
      twoWorkerBound: +(t[32]! / t[16]!).toFixed(3),
      reps,
      loadAvg: loadavg().map((x) => +x.toFixed(2)),
      ...(note ? { note } : {}),
    }),
  );
}
