/**
 * Data-parallel CPU training vs PyTorch CPU on the same UNet, alternating the two so both see the same load:
 * for each repetition, preset and worker count W, one Dapple process with W wasm worker threads
 * (cpu-parallel-case.ts) then one PyTorch process with torch.set_num_threads(W) (cpu/torch_cpu.py, Debian's
 * python3-torch under /usr/bin/python3). Prints each measurement as a JSON line, then per preset a summary:
 * Dapple's scaling (img/s at W workers over 1 worker; goal ≥ 1.8× at 2) and Dapple over PyTorch at equal cores
 * (goal ≥ 1.0× for `small`), from wall time and from CPU time. Every line says the load average: on a shared
 * machine wall-time scaling is only meaningful when the load stays below the core count.
 *
 * Usage: npm run bench -w @dapple/models -- --cpu-parallel [--presets tiny,small] [--workers 1,2] [--batch 32]
 *          [--steps 5] [--warmup 2] [--reps 2] [--note "..."] [--from results.jsonl (summarise earlier lines only)]
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { presetConfig, type PresetName } from '../src/diffusion/presets.ts';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const presets = opt('presets', 'tiny,small').split(',') as PresetName[];
const workerCounts = opt('workers', '1,2').split(',').map(Number);
const batch = Number(opt('batch', '32'));
const steps = Number(opt('steps', '5'));
// Untimed steps first in every Dapple process: V8 compiles TF.js's JS with TurboFan over the first tens of steps
// (each worker thread is its own isolate and compiles its own copy), on helper threads that take a core.
const warmup = Number(opt('warmup', '2'));
const reps = Number(opt('reps', '2'));
const note = opt('note', '');
const python = opt('python', '/usr/bin/python3');
const tsx = join(here, '..', '..', '..', 'node_modules', '.bin', 'tsx');

type Line = Record<string, unknown> & { impl: string; preset: string; workers: number; imgPerSec?: number };

async function measure(impl: 'dapple-wasm' | 'pytorch-cpu', preset: PresetName, workers: number, rep: number) {
  const before = loadavg()[0]!;
  const [cmd, args] =
    impl === 'dapple-wasm'
      ? [tsx, [join(here, 'cpu-parallel-case.ts'), JSON.stringify({ preset, workers, batch, steps, warmup })]]
      : [
          python,
          [
            join(here, 'cpu', 'torch_cpu.py'),
            JSON.stringify({ preset, config: presetConfig(preset), threads: workers, batch, steps, warmup }),
          ],
        ];
  let line: Line;
  try {
    const { stdout } = await run(cmd, args, { maxBuffer: 1 << 20, timeout: 900_000 });
    const json = stdout.split('\n').find((l) => l.startsWith('{"bench"'));
    line = json ? (JSON.parse(json) as Line) : { impl, preset, workers, error: 'no result line' };
  } catch (err) {
    // The first line that names an error (a crash prints its stack above Node's version line).
    const text = err instanceof Error ? `${(err as { stderr?: string }).stderr ?? ''}\n${err.message}` : String(err);
    const lines = text.split('\n').filter((l) => l.trim());
    const message = lines.find((l) => /Error|error:|Aborted/.test(l)) ?? lines.slice(-3).join(' ');
    line = { bench: 'cpu.parallel.error', impl, preset, workers, error: message.slice(0, 300) };
  }
  const out = { ...line, rep, loadAvgBefore: +before.toFixed(2), ...(note ? { note } : {}) };
  console.log(JSON.stringify(out));
  return out;
}

const results: Line[] = [];
const from = opt('from', '');
// --from <file.jsonl>: summarise lines measured earlier (e.g. a results file) instead of measuring.
if (from)
  for (const l of readFileSync(from, 'utf8').split('\n'))
    if (l.startsWith('{') && l.includes('"cpu.parallel.train"')) results.push(JSON.parse(l) as Line);
for (let rep = 1; rep <= (from ? 0 : reps); rep++) {
  for (const preset of presets) {
    for (const workers of workerCounts) {
      results.push(await measure('dapple-wasm', preset, workers, rep));
      results.push(await measure('pytorch-cpu', preset, workers, rep));
    }
  }
}

const median = (xs: number[]): number | undefined => {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1]! + s[mid]!) / 2;
};
const pick = (impl: string, preset: string, workers: number, field: 'imgPerSec' | 'imgPerCpuSec') =>
  median(
    results
      .filter((r) => r.impl === impl && r.preset === preset && r.workers === workers && typeof r[field] === 'number')
      .map((r) => r[field] as number),
  );
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b > 0 ? +(a / b).toFixed(3) : null;
for (const preset of presets) {
  const n = results.filter((r) => r.preset === preset && r.impl === 'dapple-wasm').length / workerCounts.length;
  const summary: Record<string, unknown> = { bench: 'cpu.parallel.summary', preset, batch, reps: n };
  for (const w of workerCounts) {
    const d = pick('dapple-wasm', preset, w, 'imgPerSec');
    const p = pick('pytorch-cpu', preset, w, 'imgPerSec');
    summary[`dapple${w}ImgPerSec`] = d === undefined ? null : +d.toFixed(2);
    summary[`torch${w}ImgPerSec`] = p === undefined ? null : +p.toFixed(2);
    summary[`dappleOverTorch${w}`] = ratio(d, p);
    summary[`dappleOverTorch${w}Cpu`] = ratio(
      pick('dapple-wasm', preset, w, 'imgPerCpuSec'),
      pick('pytorch-cpu', preset, w, 'imgPerCpuSec'),
    );
    if (w !== 1) {
      summary[`dappleScaling${w}`] = ratio(d, pick('dapple-wasm', preset, 1, 'imgPerSec'));
      summary[`torchScaling${w}`] = ratio(p, pick('pytorch-cpu', preset, 1, 'imgPerSec'));
    }
  }
  const loads = results.filter((r) => r.preset === preset).map((r) => (r['loadAvg'] as number[] | undefined)?.[0]);
  const known = loads.filter((x): x is number => typeof x === 'number');
  summary['loadAvg1mRange'] = known.length ? [Math.min(...known), Math.max(...known)] : null;
  if (note) summary['note'] = note;
  console.log(JSON.stringify(summary));
}
