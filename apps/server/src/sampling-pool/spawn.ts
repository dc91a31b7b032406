import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from './protocol.ts';

const require = createRequire(import.meta.url);

/**
 * Starts a sampling worker thread. The hub runs TypeScript source (tsx, vitest) and Node 20 does not
 * pass ESM loader hooks on to worker threads, so the thread registers tsx's CommonJS hook itself and
 * then requires worker.ts (which therefore avoids top-level await).
 */
export function spawnSamplingWorker(options: WorkerOptions): Worker {
  const tsxCjs = require.resolve('tsx/cjs/api');
  const entry = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const bootstrap = `require(${JSON.stringify(tsxCjs)}).register(); require(${JSON.stringify(entry)});`;
  return new Worker(bootstrap, { eval: true, workerData: options, stdout: false, stderr: false });
}
