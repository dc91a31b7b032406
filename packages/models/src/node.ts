/**
 * `@dapple/models/node`: the helpers only Node.js can run (they import node:fs, node:os, node:path), kept off
 * the root and browser entries so that a browser bundle never pulls them in.
 */
export { nodeWasmDir } from './backend/node-wasm-dir.ts';
export { usableCpus, type CpuLimits } from './parallel/cpus.ts';
export { fileSystemHandler } from './checkpoint/fs-handler.ts';
