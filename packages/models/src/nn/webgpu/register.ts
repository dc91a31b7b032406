import * as tf from '@tensorflow/tfjs';
import { webgpuInternals, type WebGpuBackendInternals } from './runtime.ts';

export type WebGpuKernelArgs = {
  inputs: Record<string, tf.TensorInfo | undefined>;
  attrs: Record<string, unknown>;
  backend: WebGpuBackendInternals;
};
export type WebGpuKernels = Record<string, (args: WebGpuKernelArgs) => tf.TensorInfo | tf.TensorInfo[]>;

/**
 * Registers kernels of ours (name → kernel function) for the webgpu backend on the first call that finds it
 * active with the internals our dispatches need (runtime.ts); returns whether they can run. The webgpu
 * counterpart of nn/wasm/heap-module.ts' wasmKernels: callers then run them with tf.engine().runKernel, so
 * they take part in tidy, memory accounting and profiling like TF.js' own kernels.
 */
export function webgpuKernels(kernels: WebGpuKernels): () => boolean {
  let registered = false;
  return () => {
    if (tf.getBackend() !== 'webgpu' || !webgpuInternals()) return false;
    if (!registered) {
      for (const [kernelName, kernelFunc] of Object.entries(kernels)) {
        if (tf.getKernel(kernelName, 'webgpu')) tf.unregisterKernel(kernelName, 'webgpu');
        tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
      }
      registered = true;
    }
    return true;
  };
}

/** Runs a registered kernel of ours with tensors and plain-value attributes. */
export function run<T extends tf.Tensor | tf.Tensor[]>(
  name: string,
  inputs: Record<string, tf.Tensor | undefined>,
  attrs: Record<string, unknown> = {},
): T {
  const named: tf.NamedTensorMap = {};
  for (const [k, v] of Object.entries(inputs)) if (v) named[k] = v;
  return tf.engine().runKernel(name, named, attrs as unknown as tf.NamedAttrMap) as unknown as T;
}
