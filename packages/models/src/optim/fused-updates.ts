import * as tf from '@tensorflow/tfjs';
import { OPTIM_KERNELS_WASM_BASE64 } from '../nn/wasm/optim-kernels.wasm.ts';
import { heapModule, type HeapModule } from '../nn/wasm/heap-module.ts';
import { webgpuKernelsActive } from '../nn/webgpu/enabled.ts';
import { webgpuOptimAvailable, type AdamConstants } from '../nn/webgpu/optim.ts';

/**
 * The Adam(W) step and the EMA update over flat buckets as single-pass wasm SIMD kernels
 * (nn/wasm/optim-kernels.wat). As TF.js ops an Adam step is ~13 element-wise ops, each a pass over every
 * parameter: on the base preset (35.7M parameters) that was ~180 ms of a 7.8 s step, mostly memory traffic;
 * the kernel reads p, g, m, v once and writes p, m, v once. Same arithmetic in the same order as the ops.
 */

const ADAM = 'DappleAdam';
const AXPBY = 'DappleAxpby';

interface OptimKernelExports {
  adam(
    p: number,
    g: number,
    m: number,
    v: number,
    p2: number,
    m2: number,
    v2: number,
    n: number,
    scale: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    stepSize: number,
    invSqrtBc2: number,
    eps: number,
    keep: number,
  ): void;
  axpby(x: number, y: number, out: number, n: number, a: number, b: number): void;
}

const optimKernels: HeapModule<OptimKernelExports> = heapModule<OptimKernelExports>(OPTIM_KERNELS_WASM_BASE64, {
  [ADAM]: (args) => {
    const { p, g, m, v, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const c = args.attrs as unknown as AdamConstants;
    const { exports, backend, ptr } = optimKernels.context(args);
    const n = tf.util.sizeFromShape(p!.shape);
    const [p2, m2, v2] = [0, 1, 2].map(() => backend.makeOutput([n], 'float32')) as [
      tf.TensorInfo,
      tf.TensorInfo,
      tf.TensorInfo,
    ];
    const s = scale ? new Float32Array(backend.wasm.asm.memory.buffer, ptr(scale), 1)[0]! : 1;
    exports.adam(
      ptr(p!),
      ptr(g!),
      ptr(m!),
      ptr(v!),
      ptr(p2),
      ptr(m2),
      ptr(v2),
      n,
      s,
      c.beta1,
      1 - c.beta1,
      c.beta2,
      1 - c.beta2,
      c.stepSize,
      c.invSqrtBc2,
      c.eps,
      c.keep,
    );
    return [p2, m2, v2];
  },
  [AXPBY]: (args) => {
    const { x, y } = args.inputs as Record<string, tf.TensorInfo>;
    const { a, b } = args.attrs as unknown as { a: number; b: number };
    const { exports, backend, ptr } = optimKernels.context(args);
    const n = tf.util.sizeFromShape(x!.shape);
    const out = backend.makeOutput([n], 'float32');
    exports.axpby(ptr(x!), ptr(y!), ptr(out), n, a, b);
    return out;
  },
});

/** Whether the fused kernels run here: the wasm backend with wasm SIMD, or webgpu (nn/webgpu/optim.ts). */
export function fusedUpdatesAvailable(): boolean {
  return optimKernels.available() || (webgpuKernelsActive() && webgpuOptimAvailable());
}

/** One Adam(W) step over a flat bucket: [p′, m′, v′] as new tensors. `scale` multiplies the gradient (clipping). */
export function fusedAdam(
  p: tf.Tensor1D,
  g: tf.Tensor1D,
  m: tf.Tensor1D,
  v: tf.Tensor1D,
  c: AdamConstants,
  scale?: tf.Scalar,
): [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] {
  const inputs: tf.NamedTensorMap = scale ? { p, g, m, v, scale } : { p, g, m, v };
  return tf.engine().runKernel<[tf.Tensor1D, tf.Tensor1D, tf.Tensor1D]>(ADAM, inputs, c as unknown as tf.NamedAttrMap);
}

/** x·a + y·b as a new tensor (x and y of the same size). */
export function fusedAxpby(x: tf.Tensor1D, y: tf.Tensor1D, a: number, b: number): tf.Tensor1D {
  return tf.engine().runKernel<tf.Tensor1D>(AXPBY, { x, y }, { a, b });
}
