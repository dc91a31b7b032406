/**
 * The TF.js backends selectBackend (backend.ts) can pick, fastest first. TF.js-free, so an app's env.ts can
 * validate DAPPLE_TF_BACKEND without loading TF.js.
 */
export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];
