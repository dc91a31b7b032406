import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ReplicaSetup } from './protocol.ts';

const require = createRequire(import.meta.url);

/** The replica thread's entry in a bundle, beside the bundle that starts it (the hub's trainer-bundle.ts builds it). */
export const REPLICA_WORKER_BUNDLE_FILE = 'replica-worker.mjs';

/**
 * Starts a replica thread. Bundled (the local executor starts trainers from apps/trainer/dist, where
 * replica-worker.mjs sits beside the trainer's bundle), the thread runs that file. From TypeScript source (tsx,
 * vitest): Node 20 does not pass ESM loader hooks on to worker threads, so the thread registers tsx's CommonJS
 * hook itself and then requires worker.ts. Its stdout/stderr go to the parent's (TF.js banners are silenced; a
 * crash's stack is in the error reply).
 */
export function spawnReplica(setup: ReplicaSetup): Worker {
  const options = { workerData: setup, name: `dapple-cpu-worker-${setup.rank}` };
  const bundled = fileURLToPath(new URL(`./${REPLICA_WORKER_BUNDLE_FILE}`, import.meta.url));
  if (existsSync(bundled)) return new Worker(bundled, options);
  const tsxCjs = require.resolve('tsx/cjs/api');
  const entry = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const bootstrap = `require(${JSON.stringify(tsxCjs)}).register(); require(${JSON.stringify(entry)});`;
  return new Worker(bootstrap, { ...options, eval: true });
}
