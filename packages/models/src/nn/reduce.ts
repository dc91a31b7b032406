import * as tf from '@tensorflow/tfjs';
import { wasmSumFits, wasmSumSpatial, wasmSumToChannels } from './wasm-sum.ts';

/**
 * Reductions over outer axes written as matMuls. On wasm, `tf.sum(x, 0)` over a tall [N, C] tensor is
 * ~20× slower than `ones[1,N] · x`, which runs in the XNNPACK GEMM (measured, see shared/notes).
 */

/**
 * Σ over all leading axes: x [..., C] → [C]. A 4-D [B,H,W,C] input is first pooled per sample (XNNPACK
 * global average pooling): ones·X would make XNNPACK pack the whole of X as GEMM weights, 4.8 ms against
 * 0.25 ms for [16,32,32,32] (measured here). On wasm: one kernel of ours (wasm-sum.ts) instead of these ops.
 */
export function sumToChannels(x: tf.Tensor): tf.Tensor1D {
  if (wasmSumFits(x)) return wasmSumToChannels(x);
  const c = x.shape[x.shape.length - 1]!;
  const rows =
    x.rank === 4 && x.shape[1]! * x.shape[2]! > 1 ? sumSpatial(x as tf.Tensor4D) : x.reshape([x.size / c, c]);
  const n = rows.shape[0];
  return tf.matMul(tf.ones([1, n]) as tf.Tensor2D, rows as tf.Tensor2D).reshape([c]) as tf.Tensor1D;
}

/**
 * Σ over the spatial axes, per sample: x [B,H,W,C] → [B,C]. A whole-image average pool (XNNPACK's
 * global pooling on wasm) measured 2–5× faster than ones[B,1,HW]·X batched matMul or tf.sum(x,[1,2]).
 * Not differentiable on every backend: use it inside custom gradients only. On wasm: one kernel of ours.
 */
export function sumSpatial(x: tf.Tensor4D): tf.Tensor2D {
  if (wasmSumFits(x)) return wasmSumSpatial(x);
  const [b, h, w, c] = x.shape;
  return tf.mul(tf.avgPool(x, [h, w], 1, 'valid'), h * w).reshape([b, c]) as tf.Tensor2D;
}

/**
 * Transposes a 2D tensor explicitly (matMul's transpose flags are ~10× slower on wasm). A tall [N, C]
 * matrix goes through the rank-3 kernel as [2, N/2, C] → [C, 2, N/2]: the same permutation, but wasm's 2-D
 * transpose is 10–20× slower than its 3-D one for N ≫ C (26 ms vs 1.4 ms for [16384, 96], measured here).
 * Wide matrices are faster in the 2-D kernel.
 */
export function t2d(x: tf.Tensor2D): tf.Tensor2D {
  const [n, c] = x.shape;
  if (n > c && n % 2 === 0) return tf.transpose(x.reshape([2, n / 2, c]), [2, 0, 1]).reshape([c, n]) as tf.Tensor2D;
  return tf.transpose(x, [1, 0]);
}
