/**
 * Compiles each src/nn/wasm/<name>.wat into src/nn/wasm/<name>.wasm.ts (the binary as base64), so that the
 * package needs no wasm toolchain at run time and bundles like any TypeScript module.
 * Usage: tsx scripts/build-wasm.ts [--check]   (--check: exit 1 if a generated file is missing or stale)
 */
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'nn', 'wasm');

// SIMD everywhere; threads for the one module on a shared memory (reduce-kernels.wat).
const FEATURES = { simd: true, threads: true };

// wabt's own wasm instance, made once (the check test and the build compile every .wat file with it).
let wabtInstance: ReturnType<typeof wabtInit> | null = null;

/** The generated module for one .wat file. */
export async function generatedSource(watFile: string): Promise<string> {
  const wabt = await (wabtInstance ??= wabtInit());
  const name = watFile.replace(/\.wat$/, '');
  const module = wabt.parseWat(watFile, readFileSync(join(dir, watFile), 'utf8'), FEATURES);
  try {
    // wabt.js's validate takes the features too (its typings say it takes none).
    (module as unknown as { validate(features: typeof FEATURES): void }).validate(FEATURES);
    const { buffer } = module.toBinary({});
    const base64 = Buffer.from(buffer).toString('base64');
    return [
      `// Generated from ${watFile} by scripts/build-wasm.ts (npm run build:wasm -w @dapple/models). Do not edit.`,
      `export const ${constName(name)} = '${base64}';`,
      '',
    ].join('\n');
  } finally {
    module.destroy();
  }
}

function constName(name: string): string {
  return `${name.replace(/-/g, '_').toUpperCase()}_WASM_BASE64`;
}

export function watFiles(): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.wat'));
}

export function generatedPath(watFile: string): string {
  return join(dir, watFile.replace(/\.wat$/, '.wasm.ts'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const wat of watFiles()) {
    const source = await generatedSource(wat);
    const path = generatedPath(wat);
    const current = existsSync(path) ? readFileSync(path, 'utf8') : null;
    if (current === source) continue;
    if (check) {
      console.error(`${path} is stale: run npm run build:wasm -w @dapple/models`);
      stale++;
    } else {
      writeFileSync(path, source);
      console.log(`wrote ${path}`);
    }
  }
  if (stale) process.exit(1);
}
