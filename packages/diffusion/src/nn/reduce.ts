import * as tf from '@tensorflow/tfjs';

/**
 * Reductions over outer axes written as matMuls. On wasm, `tf.sum(x, 0)` over a tall [N, C] tensor is
 * ~20× slower than `ones[1,N] · x`, which runs in the XNNPACK GEMM (measured, see shared/notes).
 */

/** Σ over all leading axes: x [..., C] → [C]. */
export function sumToChannels(x: tf.Tensor): tf.Tensor1D {
  const c = x.shape[x.shape.length - 1]!;
  const n = x.size / c;
  const x2 = x.reshape([n, c]) as tf.Tensor2D;
  return tf.matMul(tf.ones([1, n]) as tf.Tensor2D, x2).reshape([c]) as tf.Tensor1D;
}

/**
 * Σ over the spatial axes, per sample: x [B,H,W,C] → [B,C]. A whole-image average pool (XNNPACK's
 * global pooling on wasm) measured 2–5× faster than ones[B,1,HW]·X batched matMul or tf.sum(x,[1,2]).
 * Not differentiable on every backend: use it inside custom gradients only.
 */
export function sumSpatial(x: tf.Tensor4D): tf.Tensor2D {
  const [b, h, w, c] = x.shape;
  return tf.mul(tf.avgPool(x, [h, w], 1, 'valid'), h * w).reshape([b, c]) as tf.Tensor2D;
}

/** Transposes the last two axes of a 2D tensor explicitly (matMul's transpose flags are ~10× slower on wasm). */
export function t2d(x: tf.Tensor2D): tf.Tensor2D {
  return tf.transpose(x, [1, 0]);
}
