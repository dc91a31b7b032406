/**
 * One Dapple measurement of the data-parallel CPU bench (bench/cpu-parallel.ts), in its own process so its
 * peak RSS (all worker threads together) is its own: `workers` threads of TF.js wasm train the preset's UNet
 * on a fixed batch (src/parallel/); prints one JSON line. The step is the trainer's: eps-MSE, Adam, clipping
 * at 1, EMA, micro-batches of ≤ 32 images per worker.
 * Usage: tsx bench/cpu-parallel-case.ts '{"preset":"small","workers":2,"batch":32,"steps":5}'
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.ts';
import { presetConfig, type PresetName } from '../src/diffusion/presets.ts';
import { createCpuTrainer, DataParallelTrainer } from '../src/parallel/index.ts';
import { benchImages, benchTrainerConfig, benchUNet, cpuMsSince, median } from './harness.ts';

interface Args {
  preset: PresetName;
  workers: number;
  batch: number;
  steps: number;
  warmup?: number;
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
await selectBackend({ prefer: 'wasm', fallback: false });
tf.enableProdMode();
const config = presetConfig(args.preset);
const model = benchUNet(config);
const images = benchImages(config, args.batch);

const t0 = performance.now();
const trainer = await createCpuTrainer(
  { ...benchTrainerConfig(model), microBatch: Math.min(args.batch, 32) },
  { workers: args.workers, backend: 'wasm' },
);
const startMs = performance.now() - t0;
for (let i = 0; i < (args.warmup ?? 2); i++) await trainer.step({ images });

const walls: number[] = [];
const cpus: number[] = [];
const overheads: number[] = [];
let loss = 0;
for (let i = 0; i < args.steps; i++) {
  const cpu0 = process.cpuUsage(); // the whole process: every worker thread's CPU time
  const w0 = performance.now();
  loss = (await trainer.step({ images })).loss;
  walls.push(performance.now() - w0);
  cpus.push(cpuMsSince(cpu0));
  if (trainer instanceof DataParallelTrainer && trainer.lastStep)
    overheads.push(trainer.lastStep.wallMs - Math.max(...trainer.lastStep.computeMs));
}
const heapMB = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.length ?? 0;
console.log(
  JSON.stringify({
    bench: 'cpu.parallel.train',
    impl: 'dapple-wasm',
    preset: args.preset,
    params: model.paramCount(),
    batch: args.batch,
    workers: trainer.workers,
    steps: args.steps,
    stepMs: +median(walls).toFixed(1),
    imgPerSec: +((args.batch * 1000) / median(walls)).toFixed(2),
    imgPerCpuSec: +((args.batch * 1000) / median(cpus)).toFixed(2),
    // Time a step spends outside the slowest worker's forward+backward: exchange, sum, update, waiting.
    ...(overheads.length ? { parallelOverheadMs: +median(overheads).toFixed(1) } : {}),
    startMs: Math.round(startMs),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    // This thread's wasm heap (the largest: it also holds the EMA); every worker's is capped at 4 GB.
    rank0HeapMB: Math.round(heapMB / 2 ** 20),
    loss: +loss.toFixed(4),
    loadAvg: loadavg().map((x) => +x.toFixed(2)),
  }),
);
await trainer.close();
