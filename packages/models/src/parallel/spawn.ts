import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ReplicaSetup } from './protocol.ts';

const require = createRequire(import.meta.url);

/**
 * Starts a replica thread. Dapple runs TypeScript source (tsx, vitest) and Node 20 does not pass ESM loader
 * hooks on to worker threads, so the thread registers tsx's CommonJS hook itself and then requires worker.ts.
 * Its stdout/stderr go to the parent's (TF.js banners are silenced; a crash's stack is in the error reply).
 */
export function spawnReplica(setup: ReplicaSetup): Worker {
  const tsxCjs = require.resolve('tsx/cjs/api');
  const entry = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const bootstrap = `require(${JSON.stringify(tsxCjs)}).register(); require(${JSON.stringify(entry)});`;
  return new Worker(bootstrap, { eval: true, workerData: setup, name: `dapple-cpu-worker-${setup.rank}` });
}
