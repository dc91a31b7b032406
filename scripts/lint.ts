// `npm run lint`: ESLint with type-aware rules, one process per TypeScript project (each tsconfig.json), a few at a
// time. One process over the whole repository holds every project's program at once and ran out of a 4 GB heap; one
// per project stays under about 1.5 GB. Usage: tsx scripts/lint.ts [--cache] [--jobs N] [extra eslint args…]
//   --cache  reuse results of unchanged files (node_modules/.cache/eslint/). Faster for the edit loop, but a type-aware
//            result can go stale when a file that an unchanged file imports changes: the `npm test` check and CI run
//            without it.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface LintTarget {
  /** The project's folder, relative to the root ('.' for the root project). */
  dir: string;
  /** Folders below it that are projects of their own, linted by their own process. */
  nested: string[];
}

/** Every folder with a tsconfig.json that git tracks, each told which of the others lie below it. */
export function lintTargets(root = ROOT): LintTarget[] {
  const dirs = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*tsconfig.json'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file.endsWith('tsconfig.json'))
    .map((file) => dirname(file));
  const below = (dir: string, other: string) => other !== dir && (dir === '.' || other.startsWith(`${dir}/`));
  return dirs.map((dir) => ({ dir, nested: dirs.filter((other) => below(dir, other)) }));
}

interface TargetResult {
  dir: string;
  code: number | null;
  seconds: number;
  output: string;
}

function lintOne(target: LintTarget, cache: boolean, extra: string[]): Promise<TargetResult> {
  const args = [
    target.dir,
    '--max-warnings',
    '0',
    ...target.nested.flatMap((dir) => ['--ignore-pattern', `${dir}/**`]),
    ...(cache
      ? [
          '--cache',
          '--cache-strategy',
          'content',
          '--cache-location',
          join(ROOT, 'node_modules/.cache/eslint', `${target.dir.replaceAll('/', '+')}.json`),
        ]
      : []),
    ...extra,
  ];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, 'node_modules/.bin/eslint'), args, { cwd: ROOT, env: process.env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ dir: target.dir, code, seconds: (performance.now() - started) / 1000, output }),
    );
  });
}

/** Lints every target, `jobs` processes at a time; the largest projects go first so the last ones to finish are short. */
export async function lintAll(
  opts: { cache?: boolean; jobs?: number; extra?: string[] } = {},
): Promise<TargetResult[]> {
  const order = ['apps/server', 'apps/web', 'packages/models', '.', 'apps/web/e2e', 'apps/trainer'];
  const rank = (dir: string) => (order.includes(dir) ? order.indexOf(dir) : order.length);
  const queue = lintTargets().sort((a, b) => rank(a.dir) - rank(b.dir));
  const results: TargetResult[] = [];
  const worker = async () => {
    for (let target = queue.shift(); target; target = queue.shift()) {
      const result = await lintOne(target, opts.cache ?? false, opts.extra ?? []);
      process.stdout.write(
        `${result.code === 0 ? 'ok  ' : 'FAIL'} ${result.dir} (${result.seconds.toFixed(1)} s)\n${result.output}`,
      );
      results.push(result);
    }
  };
  const jobs = Math.max(1, opts.jobs ?? Math.min(availableParallelism(), 4));
  await Promise.all(Array.from({ length: jobs }, worker));
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const cache = argv.includes('--cache');
  const jobsAt = argv.indexOf('--jobs');
  const jobs = jobsAt >= 0 ? Number(argv[jobsAt + 1]) : undefined;
  const extra = argv.filter((a, i) => a !== '--cache' && i !== jobsAt && i !== jobsAt + 1);
  const started = performance.now();
  const results = await lintAll({ cache, ...(jobs ? { jobs } : {}), extra });
  const failed = results.filter((r) => r.code !== 0).map((r) => r.dir);
  console.log(
    `${results.length} projects linted in ${((performance.now() - started) / 1000).toFixed(1)} s` +
      (failed.length ? `; failed: ${failed.join(', ')}` : ''),
  );
  process.exitCode = failed.length ? 1 : 0;
}
