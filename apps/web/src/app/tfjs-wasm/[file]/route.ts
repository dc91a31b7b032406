import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

// Serves the tfjs-backend-wasm binaries to the in-browser sampler (its worker calls setWasmPaths('/tfjs-wasm/')).
// Read from the installed package at request time: no copy in public/ to drift from the JavaScript that loads them.
const FILES = new Set([
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
]);

let distDir: string | null = null;

function findDist(): string {
  if (distDir) return distDir;
  // `next start` runs in apps/web; npm workspaces hoist the package to the repository's node_modules.
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
    if (existsSync(/*turbopackIgnore: true*/ join(candidate, 'tfjs-backend-wasm.wasm'))) return (distDir = candidate);
    if (dirname(dir) === dir) throw new Error('@tensorflow/tfjs-backend-wasm is not installed');
  }
}

export async function GET(_request: Request, { params }: { params: Promise<{ file: string }> }) {
  const { file } = await params;
  if (!FILES.has(file)) return new Response('Not found', { status: 404 });
  const body = await readFile(/*turbopackIgnore: true*/ join(findDist(), file));
  return new Response(new Uint8Array(body), {
    headers: {
      'content-type': 'application/wasm',
      'cache-control': 'public, max-age=86400',
      // Fetched by a worker of a cross-origin-isolated page: say it may be embedded (same origin anyway).
      'cross-origin-resource-policy': 'same-origin',
    },
  });
}
