/**
 * `npm run bench -w packages/models`: UNet training-step and forward (one sampling step) throughput per
 * backend, preset and batch size, as JSON lines. Each case runs in a child process so its peak RSS is
 * its own. `trainOverForward` is the ratio to the forward pass measured in the same process (the
 * baseline): the target on wasm is ≤ 3. `*Cpu*` fields use process CPU time instead of wall time: wasm is
 * single-threaded, so they stay meaningful when other jobs load the machine. Options: --quick (tiny only), --backends wasm,cpu.
 * Where a step's time goes per kernel: `tsx bench/profile.ts <preset> <batch>`. Before/after numbers of the wasm
 * work: bench/results/wasm-2026-11-26-backward.jsonl, wasm-2026-11-26-session2.jsonl (filter gradient as one
 * matMul over shifted windows), then wasm-2026-11-27-kernels.jsonl (our own wasm SIMD kernels: convs, filter
 * gradient, GroupNorm backward, attention products, Adam/EMA). bench/ab.ts runs such before/after pairs;
 * bench/dw-micro.ts compares filter-gradient forms per shape.
 * Data-parallel CPU training (src/parallel/): `-- --cpu-parallel [options]` runs bench/cpu-parallel.ts (Dapple
 * at 1 and 2 worker threads against PyTorch CPU at 1 and 2 threads, alternating; its options are listed there),
 * `-- --parallel-micro` runs bench/parallel-micro.ts (gradient sum and update placement).
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
if (argv.includes('--cpu-parallel') || argv.includes('--parallel-micro')) {
  const script = argv.includes('--cpu-parallel') ? 'cpu-parallel.ts' : 'parallel-micro.ts';
  const rest = argv.filter((a) => a !== '--cpu-parallel' && a !== '--parallel-micro');
  process.argv = [process.argv[0]!, join(here, script), ...rest];
  await import(`./${script}`);
  process.exit(0);
}
const quick = argv.includes('--quick');
const backendsArg = argv[argv.indexOf('--backends') + 1];
const backends = argv.includes('--backends') && backendsArg ? backendsArg.split(',') : ['wasm', 'cpu'];

interface Case {
  backend: string;
  preset: 'tiny' | 'small' | 'base';
  batch: number;
  train: boolean;
  minIters?: number;
  minSeconds?: number;
}

const cases: Case[] = [];
for (const backend of backends) {
  if (backend === 'cpu') {
    // cpu is a correctness reference 20–25× slower than wasm: tiny only.
    cases.push({ backend, preset: 'tiny', batch: 8, train: true, minIters: 1, minSeconds: 0 });
    continue;
  }
  for (const batch of [8, 16, 32])
    cases.push({ backend, preset: 'tiny', batch, train: true, minIters: 6, minSeconds: 4 });
  if (quick) continue;
  for (const batch of [8, 16, 32])
    cases.push({ backend, preset: 'small', batch, train: true, minIters: 1, minSeconds: 0 });
  // base (35.7M params): batch 8 only, one timed block (a training step takes ~8 s on one wasm thread).
  cases.push({ backend, preset: 'base', batch: 8, train: true, minIters: 1, minSeconds: 0 });
}

const tsx = join(here, '..', '..', '..', 'node_modules', '.bin', 'tsx');
for (const c of cases) {
  try {
    const { stdout } = await run(tsx, [join(here, 'case.ts'), JSON.stringify(c)], {
      maxBuffer: 1 << 20,
      timeout: 300_000,
    });
    const line = stdout.split('\n').find((l) => l.startsWith('{"bench"'));
    console.log(line ?? JSON.stringify({ bench: 'diffusion.error', ...c, error: 'no result line' }));
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    console.log(JSON.stringify({ bench: 'diffusion.error', ...c, error: message?.slice(0, 200) }));
  }
}
