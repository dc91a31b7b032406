/**
 * How much of a data-parallel CPU step is lost to its slices finishing at different times, and whether that could be
 * predicted. A W-worker trainer runs `steps` steps (after `warmup`) on equal slices; per step it records each rank's
 * compute time (wall and thread CPU) and, on Linux, the CPU rank 0 was on when it dispatched the step. Prints one JSON
 * line:
 * - `computeMs` / `computeCpuMs`: each rank's mean; `slowestMs`: the mean of the slowest rank's time per step, what the
 *   step waits for; `balancedMs`: the mean over ranks per step, what a perfect split would wait for; `imbalanceMs`:
 *   the difference, and `imbalanceShare` the part of the step it is.
 * - `rank0MinusRank1Ms` / `…CpuMs` (2 workers): quartiles of the per-step difference: spread across zero means the
 *   slow rank changes from step to step.
 * - `slowerByRank0Cpu` (2 workers): for each CPU rank 0 dispatched from, in how many steps rank 0 / rank 1 was the
 *   slower one: if the CPU a rank runs on decided it, each row would be one-sided.
 *
 * Usage: npx tsx packages/models/bench/cpu-slice-imbalance.ts [--preset small] [--workers 2] [--batch 32]
 *          [--steps 100] [--warmup 20] [--note "..."]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.ts';
import { presetConfig, type PresetName } from '../src/diffusion/presets.ts';
import { DataParallelTrainer } from '../src/parallel/data-parallel-trainer.ts';
import { benchImages, benchTrainerConfig, benchUNet, quantile } from './harness.ts';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'small' },
    workers: { type: 'string', default: '2' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '20' },
    note: { type: 'string', default: '' },
  },
});
const preset = args.preset as PresetName;
const workers = Number(args.workers);
const batch = Number(args.batch);
if (!(workers >= 2)) throw new RangeError('--workers must be at least 2 (one worker has no slices to balance)');

/** The CPU the calling thread last ran on (field 39 of /proc/thread-self/stat), or null off Linux. */
function currentCpu(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[36]);
  } catch {
    return null;
  }
}

await selectBackend({ prefer: 'wasm', fallback: false });
tf.enableProdMode();
const config = presetConfig(preset);
const images = benchImages(config, batch);
const model = benchUNet(config);
const trainer = await DataParallelTrainer.create(
  { ...benchTrainerConfig(model), microBatch: Math.min(batch, 32) },
  { workers, backend: 'wasm' },
);
for (let i = 0; i < Number(args.warmup); i++) await trainer.step({ images });

interface Sample {
  cpu: number | null;
  computeMs: number[];
  computeCpuMs: (number | null)[];
  wallMs: number;
}
const samples: Sample[] = [];
for (let i = 0; i < Number(args.steps); i++) {
  const cpu = currentCpu();
  await trainer.step({ images });
  const s = trainer.lastStep!;
  samples.push({ cpu, computeMs: s.computeMs, computeCpuMs: s.computeCpuMs, wallMs: s.wallMs });
}
await trainer.close();
images.dispose();

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const round = (x: number) => +x.toFixed(1);
const perRank = (pick: (s: Sample) => (number | null)[]) =>
  Array.from({ length: workers }, (_, r) => {
    const xs = samples.map((s) => pick(s)[r]).filter((x): x is number => x != null);
    return xs.length ? round(mean(xs)) : null;
  });
const slowest = mean(samples.map((s) => Math.max(...s.computeMs)));
const balanced = mean(samples.map((s) => mean(s.computeMs)));
const wall = mean(samples.map((s) => s.wallMs));
const quartiles = (xs: number[]) => [0.25, 0.5, 0.75].map((q) => round(quantile(xs, q)));
const pairs =
  workers === 2
    ? (() => {
        const cpuDiffs = samples
          .filter((s) => s.computeCpuMs[0] != null && s.computeCpuMs[1] != null)
          .map((s) => s.computeCpuMs[0]! - s.computeCpuMs[1]!);
        const slower: Record<string, { rank0: number; rank1: number }> = {};
        for (const s of samples) {
          const row = (slower[s.cpu === null ? 'unknown' : `cpu${s.cpu}`] ??= { rank0: 0, rank1: 0 });
          if (s.computeMs[0]! > s.computeMs[1]!) row.rank0++;
          else row.rank1++;
        }
        return {
          rank0MinusRank1Ms: quartiles(samples.map((s) => s.computeMs[0]! - s.computeMs[1]!)),
          rank0MinusRank1CpuMs: cpuDiffs.length ? quartiles(cpuDiffs) : null,
          slowerByRank0Cpu: slower,
        };
      })()
    : {};
console.log(
  JSON.stringify({
    bench: 'cpu.slice.imbalance',
    preset,
    params: model.paramCount(),
    batch,
    workers,
    steps: samples.length,
    warmup: Number(args.warmup),
    wallMs: round(wall),
    computeMs: perRank((s) => s.computeMs),
    computeCpuMs: perRank((s) => s.computeCpuMs),
    slowestMs: round(slowest),
    balancedMs: round(balanced),
    imbalanceMs: round(slowest - balanced),
    imbalanceShare: +((slowest - balanced) / wall).toFixed(3),
    ...pairs,
    loadAvg: loadavg().map((x) => +x.toFixed(2)),
    ...(args.note ? { note: args.note } : {}),
  }),
);
