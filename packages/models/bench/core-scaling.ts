/**
 * How much a second core gives on this machine, whatever the code: the same fixed work run in one thread, then in
 * N threads at once (each its own copy), as JSON lines with the speed-up N·t₁/t_N. Five kinds of work: float
 * loops on registers (one dependent chain, and eight independent ones that fill the FP units), passes over arrays of
 * 16 KiB (L1-resident), 256 KiB (L2-resident, as a conv tile's working set is) and 64 MiB (memory-bound). On a VM whose vCPUs share a physical core or memory bandwidth, even
 * this bench scales below N: the ceiling for data-parallel training on the same machine (bench/cpu-parallel.ts).
 *
 * Usage: npx tsx packages/models/bench/core-scaling.ts [--threads 2] [--reps 5] [--note "..."]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

type Kind = 'registers' | 'registers-8-chains' | 'cache-16k' | 'cache-256k' | 'memory-64m';

/** One unit of work of a kind; returns a value so the loops cannot be optimised away. */
function work(kind: Kind): number {
  if (kind === 'registers') {
    let a = 1.0001;
    let b = 0.9999;
    for (let i = 0; i < 150_000_000; i++) {
      a = a * b + 1e-9;
      b = b * a - 1e-9;
    }
    return a + b;
  }
  if (kind === 'registers-8-chains') {
    // Eight independent chains keep the FP units busy every cycle (one chain leaves them idle between dependent
    // operations, which a second hardware thread on the same core could fill): tells separate cores from SMT siblings.
    let [a, b, c, d, e, f, g, h] = [1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8];
    for (let i = 0; i < 250_000_000; i++) {
      a = a * 0.9999999 + 1e-9;
      b = b * 0.9999999 + 1e-9;
      c = c * 0.9999999 + 1e-9;
      d = d * 0.9999999 + 1e-9;
      e = e * 0.9999999 + 1e-9;
      f = f * 0.9999999 + 1e-9;
      g = g * 0.9999999 + 1e-9;
      h = h * 0.9999999 + 1e-9;
    }
    return a + b + c + d + e + f + g + h;
  }
  const floats = { 'cache-16k': 4 * 1024, 'cache-256k': 64 * 1024, 'memory-64m': 16 * 1024 * 1024 }[kind];
  const passes = { 'cache-16k': 96_000, 'cache-256k': 6_000, 'memory-64m': 24 }[kind];
  const data = new Float32Array(floats).fill(1);
  let sum = 0;
  for (let p = 0; p < passes; p++) for (let i = 0; i < floats; i++) sum += data[i]!;
  return sum;
}

// The threads run plain JavaScript (work's transpiled source): a worker thread gets no TypeScript loader.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const work = ${work.toString()};
parentPort.once('message', () => {
  const started = performance.now();
  const value = work(workerData.kind);
  parentPort.postMessage({ ms: performance.now() - started, value });
});`;

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    reps: { type: 'string', default: '5' },
    note: { type: 'string', default: '' },
  },
});
const threads = Number(args.threads);

/** Wall ms for `count` threads each doing one unit at once (started together once all are up). */
async function timed(kind: Kind, count: number): Promise<number> {
  const workers = Array.from({ length: count }, () => new Worker(WORKER_SOURCE, { eval: true, workerData: { kind } }));
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('online', resolve))));
  const started = performance.now();
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.once('message', () => resolve());
          w.postMessage('go');
        }),
    ),
  );
  const ms = performance.now() - started;
  await Promise.all(workers.map((w) => w.terminate()));
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const kind of ['registers', 'registers-8-chains', 'cache-16k', 'cache-256k', 'memory-64m'] as Kind[]) {
  const one: number[] = [];
  const many: number[] = [];
  for (let rep = 0; rep < Number(args.reps); rep++) {
    one.push(await timed(kind, 1));
    many.push(await timed(kind, threads));
  }
  const line = {
    bench: 'core.scaling',
    kind,
    threads,
    oneThreadMs: Math.round(median(one)),
    allThreadsMs: Math.round(median(many)),
    speedup: Number(((threads * median(one)) / median(many)).toFixed(3)),
    speedups: one.map((t, i) => Number(((threads * t) / many[i]!).toFixed(3))),
    loadAvg: loadavg().map((l) => Number(l.toFixed(2))),
    note: args.note,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
