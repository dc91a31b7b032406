import * as tf from '@tensorflow/tfjs';
import { MATMUL_KERNELS_WASM_BASE64 } from './wasm/matmul-kernels.wasm.ts';
import { heapModule, type HeapModule } from './wasm/heap-module.ts';

/**
 * Batched matrix products on the wasm backend as wasm SIMD kernels of our own (wasm/matmul-kernels.wat),
 * for attention. tfjs-backend-wasm runs a matMul in XNNPACK only with batch 1 and no transpose flag, and
 * otherwise in a scalar loop, so the attention block split every batched product into one matMul per
 * sample plus explicit transposes: ~35 ops per product, ~200 per attention block and step. Here each
 * product, transposed operands included, is one kernel call.
 * The plain product also takes a bias, for the forward of dense layers and 1×1 convs: XNNPACK's fused matMul
 * and 1×1 conv ran at 13–15 GMAC/s on the small UNet's shapes ([2048…32768, 64…128] · [64…128, 32…64]), this
 * kernel at 16–18 under load (alternating calls in one process, bench/matmul-micro.ts: 1.2–1.34× on all but one shape).
 */

const KERNEL = 'DappleBatchMatMul';

interface MatMulKernelExports {
  matmulNN: (a: number, b: number, c: number, bias: number, batch: number, m: number, k: number, n: number) => void;
  matmulTN: (a: number, b: number, c: number, batch: number, m: number, k: number, n: number) => void;
  matmulNT: (a: number, b: number, c: number, batch: number, m: number, k: number, n: number) => void;
}

interface Attrs {
  transposeA: boolean;
  transposeB: boolean;
}

const matmulKernels: HeapModule<MatMulKernelExports> = heapModule<MatMulKernelExports>(MATMUL_KERNELS_WASM_BASE64, {
  [KERNEL]: (args) => {
    const a = args.inputs['a'] as tf.TensorInfo;
    const b = args.inputs['b'] as tf.TensorInfo;
    const bias = args.inputs['bias'];
    const { transposeA, transposeB } = args.attrs as unknown as Attrs;
    const { exports, backend, ptr } = matmulKernels.context(args);
    const { batch, m, k, n } = dims(a.shape, b.shape, transposeA, transposeB);
    const c = backend.makeOutput(a.shape.length === 2 ? [m, n] : [batch, m, n], 'float32');
    if (transposeA) exports.matmulTN(ptr(a), ptr(b), ptr(c), batch, m, k, n);
    else if (transposeB) exports.matmulNT(ptr(a), ptr(b), ptr(c), batch, m, k, n);
    else exports.matmulNN(ptr(a), ptr(b), ptr(c), bias ? ptr(bias) : 0, batch, m, k, n);
    return c;
  },
});

/** Batch and matrix sizes; a rank-2 pair is one batch entry (so 2-D callers need no reshapes). */
function dims(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean) {
  const [batch, a1, a2] = (aShape.length === 2 ? [1, ...aShape] : aShape) as [number, number, number];
  const [, b1, b2] = (bShape.length === 2 ? [1, ...bShape] : bShape) as [number, number, number];
  return { batch, m: transposeA ? a2 : a1, k: transposeA ? a1 : a2, n: transposeB ? b1 : b2 };
}

/**
 * Whether wasmBatchMatMul computes op(a)·op(b) for these [B, ·, ·] (or 2-D) shapes here: on the wasm backend, not
 * both operands transposed, and block-sized dimensions (M in fours and N in eights; with b transposed, M
 * even and N, K in fours).
 */
export function wasmBatchMatMulFits(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): boolean {
  const rank = aShape.length;
  if (
    (rank !== 2 && rank !== 3) ||
    bShape.length !== rank ||
    (rank === 3 && aShape[0] !== bShape[0]) ||
    (transposeA && transposeB)
  )
    return false;
  const { batch, m, k, n } = dims(aShape, bShape, transposeA, transposeB);
  if (m === 0 || k === 0 || n === 0 || batch === 0) return false;
  const fits = transposeB ? m % 2 === 0 && n % 4 === 0 && k % 4 === 0 : m % 4 === 0 && n % 8 === 0;
  return fits && matmulKernels.available();
}

/**
 * op(a) · op(b) (+ bias [N], only without transposes) per batch entry, op = transpose where asked; 2-D operands
 * are one entry and give a 2-D result. Call only where wasmBatchMatMulFits holds.
 */
export function wasmBatchMatMul<T extends tf.Tensor2D | tf.Tensor3D>(
  a: T,
  b: T,
  transposeA: boolean,
  transposeB: boolean,
  bias?: tf.Tensor1D,
): T {
  if (bias && (transposeA || transposeB)) throw new RangeError('wasmBatchMatMul: a bias only without transposes');
  const inputs: tf.NamedTensorMap = bias ? { a, b, bias } : { a, b };
  return tf.engine().runKernel<T>(KERNEL, inputs, { transposeA, transposeB });
}
