/**
 * How the CPU cost of a data-parallel wasm training step falls over a run's first few hundred steps: per window of
 * steps, each rank's thread CPU and that of every other thread of the process (V8's helpers: TurboFan compiling
 * TF.js's JS, GC marking and scavenging), per step. Each worker thread is its own V8 isolate that compiles its own
 * copy of the JS, and functions called only a few times per step reach the optimizing compiler only after tens
 * of steps; so a bench that times steps 3–7 (`--cpu-parallel`'s default warm-up) measures part of this warm-up, and
 * with 2 workers on 2 cores the helpers' compiling takes a core's time from the workers.
 * Thread CPU time, not wall: the machine is shared (every line says the load average).
 * Usage: tsx bench/jit-warmup.ts [--preset tiny] [--workers 2] [--steps 250] [--window 25] [--note ...]
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.ts';
import { presetConfig, type PresetName } from '../src/diffusion/presets.ts';
import { createCpuTrainer, DataParallelTrainer } from '../src/parallel/index.ts';
import { processThreadsCpuMs, threadId } from '../src/parallel/thread-cpu.ts';
import { benchImages, benchTrainerConfig, benchUNet } from './harness.ts';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const preset = opt('preset', 'tiny') as PresetName;
const workers = Number(opt('workers', '2'));
const steps = Number(opt('steps', '250'));
const window = Number(opt('window', '25'));
const batch = Number(opt('batch', '32'));
const note = opt('note', '');

await selectBackend({ prefer: 'wasm', fallback: false });
tf.enableProdMode();
const config = presetConfig(preset);
const model = benchUNet(config);
const images = benchImages(config, batch);
const trainer = await createCpuTrainer(
  { ...benchTrainerConfig(model), microBatch: Math.min(batch, 32) },
  { workers, backend: 'wasm' },
);
const ranks = trainer instanceof DataParallelTrainer ? trainer.threadIds : [threadId()];
if (ranks.some((t) => t === null)) throw new Error('per-thread CPU times need Linux (/proc/self/task)');
let before = processThreadsCpuMs()!;
let wall0 = performance.now();
for (let step = 1; step <= steps; step++) {
  await trainer.step({ images });
  if (step % window !== 0) continue;
  const after = processThreadsCpuMs()!;
  const spent = (tid: number) => ((after.get(tid) ?? 0) - (before.get(tid) ?? 0)) / window;
  const rankCpu = ranks.map((tid) => spent(tid!));
  const all = [...after.keys()].reduce((a, tid) => a + spent(tid), 0);
  console.log(
    JSON.stringify({
      bench: 'cpu.parallel.jitWarmup',
      preset,
      workers: trainer.workers,
      batch,
      steps: [step - window + 1, step],
      rankThreadCpuMs: rankCpu.map((x) => +x.toFixed(1)),
      helperThreadCpuMs: +(all - rankCpu.reduce((a, b) => a + b, 0)).toFixed(1),
      cpuMsPerStep: +all.toFixed(1),
      stepMs: +((performance.now() - wall0) / window).toFixed(1),
      loadAvg: loadavg().map((x) => +x.toFixed(2)),
      ...(note ? { note } : {}),
    }),
  );
  before = after;
  wall0 = performance.now();
}
await trainer.close();
