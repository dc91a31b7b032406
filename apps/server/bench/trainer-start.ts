/**
 * How long a trainer process takes to reach its first line of work, started the two ways the local executor can:
 * from the bundle (executors/trainer-bundle.ts: `node --enable-source-maps apps/trainer/dist/trainer.mjs`, the
 * default) and from TypeScript source through tsx (the fallback, and how it started before the bundle). Each start
 * runs `--check-gpu` with DAPPLE_TF_BACKEND=wasm: it loads everything a run loads (TF.js, the wasm backend and its
 * binaries) and exits. The two alternate, start after start, so both see the same load; prints one JSON line per
 * way with medians of wall and CPU (user + sys of the child) seconds, and a summary line with the ratios.
 *
 * Usage: npx tsx apps/server/bench/trainer-start.ts [--reps 7] [--note "..."]
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { TRAINER_BUNDLE_SOURCES, TRAINER_MAIN } from '../src/executors/local.ts';
import { buildTrainerBundle } from '../src/executors/trainer-bundle.ts';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '7' }, note: { type: 'string' } } });
const reps = Number(values.reps);
const root = TRAINER_BUNDLE_SOURCES.root;

const built = performance.now();
const bundle = await buildTrainerBundle(TRAINER_BUNDLE_SOURCES);
const buildMs = performance.now() - built;

const ways = {
  bundle: [process.execPath, '--enable-source-maps', bundle.main, '--check-gpu'],
  tsx: [process.execPath, '--import', 'tsx', TRAINER_MAIN, '--check-gpu'],
} as const;
type Way = keyof typeof ways;

/** One start: wall seconds, and the child's CPU seconds from /usr/bin/time's user + sys. */
function start(way: Way): Promise<{ wall: number; cpu: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'DAPPLE_CPU %U %S', ...ways[way]], {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', DAPPLE_TF_BACKEND: 'wasm' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const wall = (performance.now() - t0) / 1000;
      const cpu = /DAPPLE_CPU ([\d.]+) ([\d.]+)/.exec(stderr);
      if (!cpu || !stdout.includes('compute: wasm'))
        return reject(new Error(`${way} start did not reach the wasm backend:\n${stdout}\n${stderr}`));
      resolve({ wall, cpu: Number(cpu[1]) + Number(cpu[2]) });
    });
  });
}

const median = (xs: number[]) => {
  const s = xs.toSorted((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const loadBefore = loadavg()[0]!;
const samples: Record<Way, { wall: number; cpu: number }[]> = { bundle: [], tsx: [] };
await start('bundle'); // warm the page cache and tsx's transform cache alike before timing
await start('tsx');
for (let i = 0; i < reps; i++) {
  for (const way of i % 2 ? (['tsx', 'bundle'] as const) : (['bundle', 'tsx'] as const))
    samples[way].push(await start(way));
}
const loadAvg = loadavg().map((l) => +l.toFixed(2));
const result = Object.fromEntries(
  (Object.keys(ways) as Way[]).map((way) => [
    way,
    {
      wallS: +median(samples[way].map((s) => s.wall)).toFixed(3),
      cpuS: +median(samples[way].map((s) => s.cpu)).toFixed(3),
    },
  ]),
) as Record<Way, { wallS: number; cpuS: number }>;
for (const way of Object.keys(ways) as Way[]) {
  console.log(
    JSON.stringify({
      bench: 'trainer.start',
      way,
      reps,
      ...result[way],
      wallsS: samples[way].map((s) => +s.wall.toFixed(3)),
      loadAvgBefore: +loadBefore.toFixed(2),
      loadAvg,
      ...(values.note ? { note: values.note } : {}),
    }),
  );
}
console.log(
  JSON.stringify({
    bench: 'trainer.start.summary',
    reps,
    bundleBuildMs: Math.round(buildMs),
    bundleInputs: bundle.inputs.length,
    wallBundleOverTsx: +(result.bundle.wallS / result.tsx.wallS).toFixed(3),
    cpuBundleOverTsx: +(result.bundle.cpuS / result.tsx.cpuS).toFixed(3),
    loadAvg,
    ...(values.note ? { note: values.note } : {}),
  }),
);
