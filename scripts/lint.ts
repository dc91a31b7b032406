// `npm run lint` and the `npm test` check (checks/typescript.test.ts): ESLint with type-aware rules, and with
// --typecheck also tsc's diagnostics, from ONE TypeScript program per set of compiler options, built once and shared.
//
// Every workspace but the dashboard compiles with the same options (tsconfig.base.json), and packages are consumed as
// TypeScript source, so a program per workspace (what ESLint's project service builds from the nearest tsconfig.json)
// parses and checks the shared packages again in each: 14 programs for ESLint plus 2 for tsc took about 5 CPU-minutes.
// Here the root tsconfig.json's program (every workspace but the dashboard) and the dashboard's own program each get
// built once, in a process of their own (one process holding both grew past a 4 GB heap in the old per-project layout),
// type-checked (`ts.getPreEmitDiagnostics`: what `tsc -p <tsconfig> --noEmit` reports) and handed to ESLint through
// typescript-eslint's `parserOptions.programs`, so the type checker's work serves both. A TypeScript file that
// ESLint lints but its program does not contain fails loudly ("not found in any of the provided programs").
//
// Usage: tsx scripts/lint.ts [--typecheck] [--fix] [--json]
//   --typecheck  also report the compiler's diagnostics (the `npm test` check does).
//   --json       end with one JSON line of per-program results (what the `npm test` check reads).
// No ESLint cache: the cache hashes the config, which here holds a ts.Program (not serialisable), and a type-aware
// result could go stale anyway when a file that an unchanged file imports changes.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ProgramTarget {
  /** The tsconfig.json that defines the program, as `tsc -p` takes it. */
  tsconfig: string;
  /** What ESLint lints with this program (paths from the root)… */
  lint: string[];
  /** …leaving these to the other program (ESLint ignore patterns). */
  ignore: string[];
}

/**
 * The two programs. The root tsconfig.json covers every workspace but the dashboard, including the browser tests and
 * the dashboard's benchmarks (plain Node code against the hub); apps/web/tsconfig.json adds JSX and Next's globals.
 * Together the two lint sets cover the whole repository once.
 */
export const TARGETS: ProgramTarget[] = [
  { tsconfig: 'tsconfig.json', lint: ['.'], ignore: ['apps/web/*', '!apps/web/e2e', '!apps/web/bench'] },
  { tsconfig: 'apps/web/tsconfig.json', lint: ['apps/web'], ignore: ['apps/web/e2e', 'apps/web/bench'] },
];

export interface TargetResult {
  tsconfig: string;
  /** Compiler errors (with --typecheck; 0 otherwise) and their `tsc --pretty false` text. */
  typeErrors: number;
  typeOutput: string;
  lintErrors: number;
  lintWarnings: number;
  lintedFiles: number;
  /** ESLint's stylish report. */
  lintOutput: string;
  seconds: number;
}

interface Options {
  typecheck: boolean;
  fix: boolean;
}

/** Builds one program, type-checks it and lints its files with it: runs in a process of its own (see lintAll). */
async function checkTarget(target: ProgramTarget, opts: Options): Promise<TargetResult> {
  const started = performance.now();
  const { default: ts } = await import('typescript');
  const { ESLint } = await import('eslint');

  const host: import('typescript').FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => '\n',
  };
  const configDiagnostics: import('typescript').Diagnostic[] = [];
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, target.tsconfig),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => configDiagnostics.push(d) },
  );
  if (!parsed) {
    return {
      ...target,
      typeErrors: configDiagnostics.length || 1,
      typeOutput: ts.formatDiagnostics(configDiagnostics, host) || `cannot read ${target.tsconfig}`,
      lintErrors: 0,
      lintWarnings: 0,
      lintedFiles: 0,
      lintOutput: '',
      seconds: (performance.now() - started) / 1000,
    };
  }
  const program = ts.createProgram({
    rootNames: parsed.fileNames,
    options: parsed.options,
    projectReferences: parsed.projectReferences,
    configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(parsed),
  });

  // First the full check, so ESLint's type queries afterwards find the checker's answers cached.
  const diagnostics = opts.typecheck
    ? ts
        .sortAndDeduplicateDiagnostics(ts.getPreEmitDiagnostics(program))
        .filter((d) => d.category === ts.DiagnosticCategory.Error)
    : [];

  const eslint = new ESLint({
    cwd: ROOT,
    fix: opts.fix,
    ignorePatterns: target.ignore,
    overrideConfig: [
      {
        files: ['**/*.{ts,tsx,mts,cts}'],
        languageOptions: { parserOptions: { programs: [program], projectService: false, project: false } },
      },
    ],
  });
  const results = await eslint.lintFiles(target.lint);
  if (opts.fix) await ESLint.outputFixes(results);
  const formatter = await eslint.loadFormatter('stylish');
  return {
    tsconfig: target.tsconfig,
    typeErrors: diagnostics.length,
    typeOutput: ts.formatDiagnostics(diagnostics, host),
    lintErrors: results.reduce((n, r) => n + r.errorCount, 0),
    lintWarnings: results.reduce((n, r) => n + r.warningCount, 0),
    lintedFiles: results.length,
    lintOutput: await formatter.format(results),
    seconds: (performance.now() - started) / 1000,
  };
}

function runChild(target: ProgramTarget, flags: string[]): Promise<TargetResult> {
  const args = [fileURLToPath(import.meta.url), '--target', target.tsconfig, ...flags];
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), args, { cwd: ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(stdout) as TargetResult);
      } catch {
        // A crash (e.g. out of memory) is a failed check with the process's own words.
        resolve({
          tsconfig: target.tsconfig,
          typeErrors: 0,
          typeOutput: '',
          lintErrors: 1,
          lintWarnings: 0,
          lintedFiles: 0,
          lintOutput: `the check of ${target.tsconfig} exited with code ${code}:\n${stdout}${stderr}`,
          seconds: 0,
        });
      }
    });
  });
}

/** Checks every program, each in a process of its own, as many at a time as there are cores. */
export async function lintAll(opts: Options): Promise<TargetResult[]> {
  const flags = [...(opts.typecheck ? ['--typecheck'] : []), ...(opts.fix ? ['--fix'] : [])];
  const queue = [...TARGETS];
  const results: TargetResult[] = [];
  const worker = async () => {
    for (let target = queue.shift(); target; target = queue.shift()) results.push(await runChild(target, flags));
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), TARGETS.length) }, worker));
  return TARGETS.map((t) => results.find((r) => r.tsconfig === t.tsconfig)!);
}

export const failed = (r: TargetResult) => r.typeErrors > 0 || r.lintErrors > 0 || r.lintWarnings > 0;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const opts: Options = {
    typecheck: argv.includes('--typecheck'),
    fix: argv.includes('--fix'),
  };
  const targetAt = argv.indexOf('--target');
  if (targetAt >= 0) {
    const target = TARGETS.find((t) => t.tsconfig === argv[targetAt + 1]);
    if (!target) throw new Error(`--target must be one of ${TARGETS.map((t) => t.tsconfig).join(', ')}`);
    process.stdout.write(JSON.stringify(await checkTarget(target, opts)));
  } else {
    const started = performance.now();
    const results = await lintAll(opts);
    for (const r of results) {
      const what =
        `${r.lintedFiles} files: ${r.lintErrors} lint errors, ${r.lintWarnings} warnings` +
        (opts.typecheck ? `, ${r.typeErrors} type errors` : '');
      console.log(`${failed(r) ? 'FAIL' : 'ok  '} ${r.tsconfig} (${what}; ${r.seconds.toFixed(1)} s)`);
      if (r.typeOutput) console.log(r.typeOutput);
      if (r.lintOutput) console.log(r.lintOutput);
    }
    console.log(`${results.length} programs checked in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    if (argv.includes('--json')) console.log(JSON.stringify(results));
    process.exitCode = results.some(failed) ? 1 : 0;
  }
}
