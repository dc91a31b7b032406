/**
 * How much a second core gives on this machine, whatever the code: the same fixed work run in one thread, then in
 * N threads at once (each its own copy), as JSON lines with the speed-up N·t₁/t_N. Five kinds of work: float
 * loops on registers (one dependent chain, and eight independent ones that fill the FP units), passes over arrays of
 * 16 KiB (L1-resident), 256 KiB (L2-resident, as a conv tile's working set is) and 64 MiB (memory-bound). On a VM whose vCPUs share a physical core or memory bandwidth, even
 * this bench scales below N: the ceiling for data-parallel training on the same machine (bench/cpu-parallel.ts).
 *
 *
 * --per-cpu (Linux) times one thread pinned to each CPU this process may use in turn (taskset), alternating, and
 * prints each kind's per-CPU median with the slowest CPU's time over the fastest's: on a VM the vCPUs need not be
 * alike (here, once, vCPU 0 ran the training step's kernels ~40% slower than vCPU 1 for minutes), and an even split
 * of a batch over workers then waits for the slowest one.
 *
 * Usage: npx tsx packages/models/bench/core-scaling.ts [--threads 2] [--reps 5] [--per-cpu] [--note "..."]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
// Its kernel thread id first, so the main thread can pin it (--per-cpu).
parentPort.postMessage({ tid: Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()) });
// This thread's CPU time (user + system, in clock ticks of 10 ms): what --per-cpu compares, as other processes on a
// shared machine take wall time from the pinned thread.
const cpuMs = () => {
  const fields = require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
parentPort.once('message', () => {
  const started = performance.now();
  const cpu0 = cpuMs();
  const value = work(workerData.kind);
  parentPort.postMessage({ ms: performance.now() - started, cpuMs: cpuMs() - cpu0, value });
});`;

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    'per-cpu': { type: 'boolean', default: false },
    reps: { type: 'string', default: '5' },
    note: { type: 'string', default: '' },
  },
});
const threads = Number(args.threads);

/**
 * Wall ms for `count` threads each doing one unit at once (started together once all are up); with `cpu`, the one
 * thread pinned to that CPU, and its thread CPU ms instead.
 */
async function timed(kind: Kind, count: number, cpu?: number): Promise<number> {
  const workers = Array.from({ length: count }, () => new Worker(WORKER_SOURCE, { eval: true, workerData: { kind } }));
  const tids = await Promise.all(
    workers.map((w) => new Promise<number>((resolve) => w.once('message', (m: { tid: number }) => resolve(m.tid)))),
  );
  if (cpu !== undefined) for (const tid of tids) execFileSync('taskset', ['-pc', String(cpu), String(tid)]);
  const started = performance.now();
  const cpuMs = await Promise.all(
    workers.map(
      (w) =>
        new Promise<number>((resolve) => {
          w.once('message', (m: { cpuMs: number }) => resolve(m.cpuMs));
          w.postMessage('go');
        }),
    ),
  );
  const ms = performance.now() - started;
  await Promise.all(workers.map((w) => w.terminate()));
  return cpu === undefined ? ms : cpuMs[0]!;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 3) => Number(x.toFixed(d));

/** The CPUs this process may run on (its affinity list, e.g. `0-3,8`). */
function allowedCpus(): number[] {
  const list = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return list.split(',').flatMap((part) => {
    const [lo, hi = lo] = part.split('-').map(Number) as [number, number?];
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  });
}

if (args['per-cpu']) {
  const cpus = allowedCpus();
  for (const kind of ['registers-8-chains', 'cache-256k', 'memory-64m'] as Kind[]) {
    const times = new Map<number, number[]>(cpus.map((c) => [c, []]));
    for (let rep = 0; rep < Number(args.reps); rep++)
      for (const cpu of rep % 2 ? [...cpus].reverse() : cpus) times.get(cpu)!.push(await timed(kind, 1, cpu));
    const perCpuMs = cpus.map((c) => Math.round(median(times.get(c)!))); // thread CPU ms
    const line = {
      bench: 'core.per-cpu',
      kind,
      cpus,
      perCpuMs,
      slowestOverFastest: round(Math.max(...perCpuMs) / Math.min(...perCpuMs)),
      loadAvg: loadavg().map((l) => round(l, 2)),
      note: args.note,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  process.exit(0);
}

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
