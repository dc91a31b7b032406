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
import { createCpuTrainer, DataParallelTrainer, type ParallelStepStats } from '../src/parallel/index.ts';
import { processThreadsCpuMs, threadCpuMs, threadId } from '../src/parallel/thread-cpu.ts';
import { benchImages, benchTrainerConfig, benchUNet, cpuMsSince, median } from './harness.ts';

interface Args {
  preset: PresetName;
  workers: number;
  batch: number;
  steps: number;
  warmup?: number;
  /** Slices one after another instead of at once (DataParallelOptions.serialSlices): compute CPU without contention. */
  serial?: boolean;
  /** Images per forward/backward pass within a rank's slice (default: up to 32). */
  microBatch?: number;
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
await selectBackend({ prefer: 'wasm', fallback: false });
tf.enableProdMode();
const config = presetConfig(args.preset);
const model = benchUNet(config);
const images = benchImages(config, args.batch);

const t0 = performance.now();
const trainer = await createCpuTrainer(
  { ...benchTrainerConfig(model), microBatch: args.microBatch ?? Math.min(args.batch, 32) },
  { workers: args.workers, backend: 'wasm', ...(args.serial ? { serialSlices: true } : {}) },
);
const startMs = performance.now() - t0;
for (let i = 0; i < (args.warmup ?? 2); i++) await trainer.step({ images });

const walls: number[] = [];
const cpus: number[] = [];
const overheads: number[] = [];
const stats: ParallelStepStats[] = [];
const singleThreadCpu: number[] = [];
let loss = 0;
const rankThreads = trainer instanceof DataParallelTrainer ? trainer.threadIds : [threadId()];
const threadsBefore = processThreadsCpuMs();
for (let i = 0; i < args.steps; i++) {
  const cpu0 = process.cpuUsage(); // the whole process: every worker thread's CPU time
  const w0 = performance.now();
  const threadCpuBefore = threadCpuMs();
  loss = (await trainer.step({ images })).loss;
  const threadCpuAfter = threadCpuMs();
  walls.push(performance.now() - w0);
  cpus.push(cpuMsSince(cpu0));
  if (trainer instanceof DataParallelTrainer && trainer.lastStep) {
    overheads.push(trainer.lastStep.wallMs - Math.max(...trainer.lastStep.computeMs));
    stats.push(trainer.lastStep);
  } else if (threadCpuBefore !== null && threadCpuAfter !== null)
    singleThreadCpu.push(threadCpuAfter - threadCpuBefore);
}
const threadsAfter = processThreadsCpuMs();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/**
 * Per rank, the mean over steps of a per-rank statistic (null where the OS gives no thread CPU time): a mean, as
 * a thread's CPU time reads to the scheduler tick (thread-cpu.ts), which averages out over steps.
 */
const perRank = (pick: (s: ParallelStepStats) => (number | null)[]) =>
  stats.length && stats.every((s) => pick(s).every((x) => x !== null))
    ? pick(stats[0]!).map((_, r) => +mean(stats.map((s) => pick(s)[r]!)).toFixed(1))
    : null;
// Where a step's time goes, per rank (rank 0 first), in thread CPU-ms where it is work: the forward+backward
// passes, the exchange with the update, the wait for the slowest slice. One worker: the step's thread CPU.
const breakdown = stats.length
  ? {
      computeCpuMs: perRank((s) => s.computeCpuMs),
      exchangeCpuMs: perRank((s) => s.exchangeCpuMs),
      barrierWaitMs: perRank((s) => s.barrierWaitMs),
      dispatchMs: +median(stats.map((s) => s.dispatchMs)).toFixed(1),
    }
  : { stepThreadCpuMs: singleThreadCpu.length ? +median(singleThreadCpu).toFixed(1) : null };
/**
 * Whole-step thread CPU per step: each rank's thread (everything it did, waiting excluded) and all the other
 * threads of the process together, V8's helpers (concurrent JIT compilation, GC marking and scavenging of
 * every isolate) foremost. On 2 cores with 2 workers the helpers' CPU is taken from the workers.
 */
const threadBreakdown = (() => {
  if (!threadsBefore || !threadsAfter || rankThreads.some((t) => t === null)) return {};
  const spent = (tid: number) => (threadsAfter.get(tid) ?? 0) - (threadsBefore.get(tid) ?? 0);
  const ranks = rankThreads.map((t) => spent(t!) / args.steps);
  const all = [...threadsAfter.keys()].reduce((a, tid) => a + spent(tid), 0) / args.steps;
  return {
    rankThreadCpuMs: ranks.map((x) => +x.toFixed(1)),
    helperThreadCpuMs: +(all - ranks.reduce((a, b) => a + b, 0)).toFixed(1),
  };
})();
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
    cpuMsPerStep: +median(cpus).toFixed(1),
    ...breakdown,
    ...threadBreakdown,
    warmup: args.warmup ?? 2,
    ...(args.serial ? { serialSlices: true } : {}),
    startMs: Math.round(startMs),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    // This thread's wasm heap (the largest: it also holds the EMA); every worker's is capped at 4 GB.
    rank0HeapMB: Math.round(heapMB / 2 ** 20),
    loss: +loss.toFixed(4),
    loadAvg: loadavg().map((x) => +x.toFixed(2)),
  }),
);
await trainer.close();
