import * as tf from '@tensorflow/tfjs';

/**
 * Whether our WGSL kernels (nn/webgpu/) replace the TF.js op compositions on the webgpu backend. On by default;
 * the dispatch-count bench turns them off to measure today's TF.js path in the same process, and tests compare
 * the two.
 */
let enabled = true;

export function setWebGpuKernels(on: boolean): void {
  enabled = on;
}

/** True on the webgpu backend with our kernels switched on. */
export function webgpuKernelsActive(): boolean {
  return enabled && tf.getBackend() === 'webgpu';
}
