/**
 * Before/after comparison of the wasm training-step benchmark under the same load: runs each case of
 * bench/case.ts from two checkouts of this package in alternation (before, after, before, after, …), so both
 * see the same neighbours on a shared machine, and prints the JSON lines with `note` and `revision` added.
 * Usage: tsx bench/ab.ts <before package dir> <before revision> <after package dir> <after revision> [reps=2]
 * Each side is a snapshot of the package, e.g. `git archive <rev> packages/models package.json tsconfig.base.json`
 * unpacked into a directory next to a `node_modules` link to this repository's (snapshots, not this working
 * tree, so that editing the sources while it runs changes neither side).
 */
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const [beforeDir, beforeRev, afterDir, afterRev, repsArg = '2'] = process.argv.slice(2);
if (!beforeDir || !beforeRev || !afterDir || !afterRev) {
  throw new Error('usage: tsx bench/ab.ts <before package dir> <before rev> <after package dir> <after rev> [reps]');
}
const sides = [
  { note: 'before', revision: beforeRev, dir: beforeDir },
  { note: 'after', revision: afterRev, dir: afterDir },
];
const allCases = [
  ...[8, 16, 32].map((batch) => ({ backend: 'wasm', preset: 'tiny', batch, train: true, minIters: 6, minSeconds: 4 })),
  ...[8, 16, 32].map((batch) => ({ backend: 'wasm', preset: 'small', batch, train: true, minIters: 6, minSeconds: 0 })),
  { backend: 'wasm', preset: 'base', batch: 8, train: true, minIters: 1, minSeconds: 0 },
];
// AB_CASES=tiny:16,small:32 keeps only those preset:batch cases.
const only = process.env['AB_CASES']?.split(',');
const cases = only ? allCases.filter((c) => only.includes(`${c.preset}:${c.batch}`)) : allCases;
const tsx = join(here, '..', '..', '..', 'node_modules', '.bin', 'tsx');
for (let rep = 1; rep <= Number(repsArg); rep++) {
  for (const c of cases) {
    for (const side of sides) {
      let line: string;
      try {
        const { stdout } = await run(tsx, [join(side.dir, 'bench', 'case.ts'), JSON.stringify(c)], {
          cwd: side.dir,
          maxBuffer: 1 << 20,
          timeout: 300_000,
        });
        line =
          stdout.split('\n').find((l) => l.startsWith('{"bench"')) ??
          JSON.stringify({ bench: 'diffusion.error', ...c, error: 'no result line' });
      } catch (err) {
        line = JSON.stringify({
          bench: 'diffusion.error',
          ...c,
          error: (err instanceof Error ? err.message : String(err)).split('\n')[0]?.slice(0, 200),
        });
      }
      // The 1-minute load average as the case ends: other processes share this machine's cores.
      const loadavg1 = +loadavg()[0]!.toFixed(2);
      console.log(
        JSON.stringify({ revision: side.revision, run: rep, note: side.note, ...JSON.parse(line), loadavg1 }),
      );
    }
  }
}
