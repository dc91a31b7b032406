/**
 * `npm run bench:glow -w packages/models`: Glow against DDPM on the same backend in the same run, as JSON
 * lines. Each pair (a Glow preset and the UNet preset of similar parameter count: glow-tiny/tiny 16×16,
 * glow-small/small 32×32) runs in its own child process (bench/glow-case.ts), timing both models in
 * alternating blocks so they share the machine's load; every line carries the ratio measured in that process
 * and the load average. Training: img/s of a full step (Adam, clipping, EMA). Sampling: Glow's one inverse pass
 * at T = 0.7 against DDIM with 50 steps. Options: --quick (tiny pair only), --backends wasm,cpu.
 * Results: bench/results/glow-*.jsonl.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const backendsArg = argv[argv.indexOf('--backends') + 1];
const backends = argv.includes('--backends') && backendsArg ? backendsArg.split(',') : ['wasm'];

const pairs: Record<string, unknown>[] = [];
for (const backend of backends) {
  for (const batch of [16, 32]) pairs.push({ backend, glow: 'glow-tiny', ddpm: 'tiny', batch });
  if (quick) continue;
  for (const batch of [8, 16])
    pairs.push({ backend, glow: 'glow-small', ddpm: 'small', batch, trainSteps: 3, sampleCalls: 1 });
}

const tsx = join(here, '..', '..', '..', 'node_modules', '.bin', 'tsx');
for (const pair of pairs) {
  try {
    const { stdout } = await run(tsx, [join(here, 'glow-case.ts'), JSON.stringify(pair)], {
      maxBuffer: 1 << 20,
      timeout: 1_200_000,
    });
    const lines = stdout.split('\n').filter((l) => l.startsWith('{"bench"'));
    if (lines.length === 0) console.log(JSON.stringify({ bench: 'glow.error', ...pair, error: 'no result line' }));
    for (const line of lines) console.log(line);
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    console.log(JSON.stringify({ bench: 'glow.error', ...pair, error: message?.slice(0, 200) }));
  }
}
