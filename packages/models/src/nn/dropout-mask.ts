import * as tf from '@tensorflow/tfjs';
import { DROPOUT_KERNELS_WASM_BASE64 } from './wasm/dropout-kernels.wasm.ts';
import { heapModule, type HeapModule } from './wasm/heap-module.ts';

/**
 * Dropout keep-mask scaled by 1/(1−rate), expanded from two seed words with a counter-based 32-bit hash
 * (Wellons' lowbias32): drawing every element from Philox in JS cost ~10% of a `small` step (2.7M draws).
 * A dropout mask needs independence across elements, not cryptographic quality. Keep iff the 24-bit
 * uniform u ≥ rate, as with `rng.uniform`. The same mask on every backend: on wasm a SIMD kernel writes it
 * into the heap (the JS loop and the copy into the heap were ~1.7% of a `small` training step).
 */

const KERNEL = 'DappleDropoutMask';

interface DropoutKernelExports {
  keepMask(out: number, n: number, seedA: number, seedB: number, threshold: number, scale: number): void;
}

interface Attrs {
  shape: number[];
  seedA: number;
  seedB: number;
  rate: number;
}

/** lowbias32((i + seedA) ^ seedB) >>> 8 ≥ threshold: whether element i is kept. */
function keep(i: number, seedA: number, seedB: number, threshold: number): boolean {
  let h = ((i + seedA) ^ seedB) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 8 >= threshold;
}

/** The 24-bit threshold of a rate: u ≥ rate·2²⁴ ⟺ u ≥ ⌈rate·2²⁴⌉ for integer u. */
function thresholdOf(rate: number): number {
  return Math.ceil(rate * 16777216);
}

const dropoutKernels: HeapModule<DropoutKernelExports> = heapModule<DropoutKernelExports>(DROPOUT_KERNELS_WASM_BASE64, {
  [KERNEL]: (args) => {
    const { shape, seedA, seedB, rate } = args.attrs as unknown as Attrs;
    const { exports, backend, ptr } = dropoutKernels.context(args);
    const n = tf.util.sizeFromShape(shape);
    const out = backend.makeOutput(shape, 'float32');
    const scale = 1 / (1 - rate);
    const threshold = thresholdOf(rate);
    const n4 = n - (n % 4);
    exports.keepMask(ptr(out), n4, seedA, seedB, threshold, scale);
    const view = new Float32Array(backend.wasm.asm.memory.buffer, ptr(out), n);
    for (let i = n4; i < n; i++) view[i] = keep(i, seedA, seedB, threshold) ? scale : 0;
    return out;
  },
});

/** The keep-mask for `shape` from seeds (uint32; taken mod 2³²): 1/(1−rate) where kept, 0 elsewhere. */
export function dropoutKeepMask(shape: number[], rate: number, seedA: number, seedB: number): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  if (dropoutKernels.available()) {
    return tf.engine().runKernel(KERNEL, {}, { shape, seedA, seedB, rate }) as tf.Tensor;
  }
  const n = tf.util.sizeFromShape(shape);
  const out = new Float32Array(n);
  const scale = 1 / (1 - rate);
  const threshold = thresholdOf(rate);
  for (let i = 0; i < n; i++) out[i] = keep(i, seedA, seedB, threshold) ? scale : 0;
  return tf.tensor(out, shape, 'float32');
}
