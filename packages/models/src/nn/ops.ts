import * as tf from '@tensorflow/tfjs';
import { customOp } from './custom-op.ts';
import { sumSpatial, sumToChannels, t2d } from './reduce.ts';
import { wasmBatchMatMul, wasmBatchMatMulFits } from './wasm-matmul.ts';
import { webgpuConv2d, webgpuConvFits } from './webgpu/conv.ts';
import { webgpuKernelsActive } from './webgpu/enabled.ts';

/**
 * Small ops with hand-written gradients. TF.js autodiff would reduce broadcasts over outer axes and use
 * matMul transpose flags, both ~10-20× slower on wasm than the explicit matMul forms below.
 */

/**
 * a [M,K] · bᵀ for b [N,K] (a dense layer's input gradient d·Wᵀ): on wasm our kernel reads b as stored;
 * elsewhere an explicit transpose first. XNNPACK re-packs Wᵀ as GEMM weights on every call: 1.7 ms against
 * 0.09 ms for [8,512]·[512,512]ᵀ (measured here).
 */
export function matMulTransposeB(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (wasmBatchMatMulFits(a.shape, b.shape, false, true)) return wasmBatchMatMul(a, b, false, true);
  return tf.matMul(a, t2d(b));
}

/** aᵀ · b for a [K,M], b [K,N] (a dense layer's weight gradient xᵀ·d), without a transpose on wasm. */
export function matMulTransposeA(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (wasmBatchMatMulFits(a.shape, b.shape, true, false)) return wasmBatchMatMul(a, b, true, false);
  return tf.matMul(t2d(a), b);
}

/**
 * x [N, Cin] · W [Cin, Cout] + b (+ `residual` [N, Cout]). On webgpu a 1×1 convolution of our kernels
 * (webgpu/conv.ts): one dispatch forward with the bias and residual added, two backward (dx; dW with db).
 */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D, residual?: tf.Tensor2D): tf.Tensor2D {
  const [n, cin] = x.shape;
  const cout = w.shape[1];
  if (b && webgpuKernelsActive()) {
    const w4 = w.reshape([1, 1, cin, cout]) as tf.Tensor4D;
    if (webgpuConvFits(w4, 1)) {
      const r4 = residual?.reshape<tf.Tensor4D>([n, 1, 1, cout]);
      return webgpuConv2d(x.reshape([n, 1, 1, cin]) as tf.Tensor4D, w4, b, 1, r4).reshape([n, cout]) as tf.Tensor2D;
    }
  }
  const y = denseOp(x, w, b);
  return residual ? (tf.add(residual, y) as tf.Tensor2D) : y;
}

function denseOp(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  const op = customOp<tf.Tensor2D>(([xi, wi, bi], save) => {
    save([xi!, wi!]);
    const [x2, w2] = [xi as tf.Tensor2D, wi as tf.Tensor2D];
    // Our kernel where it fits: 1.2–1.3× XNNPACK's fused matMul on the attention projections (wasm-matmul.ts).
    const value = wasmBatchMatMulFits(x2.shape, w2.shape, false, false)
      ? wasmBatchMatMul(x2, w2, false, false, bi as tf.Tensor1D | undefined)
      : (tf.fused.matMul({ a: x2, b: w2, bias: bi }) as tf.Tensor2D);
    return {
      value,
      gradFunc: (d, saved) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const grads: tf.Tensor[] = [matMulTransposeB(d, ws), matMulTransposeA(xs, d)];
        if (bi) grads.push(sumToChannels(d));
        return grads;
      },
    };
  });
  return b ? op(x, w, b) : op(x, w);
}

/** Swaps the last two axes of a [B,M,N] tensor. */
function swapLast(x: tf.Tensor3D): tf.Tensor3D {
  return tf.transpose(x, [0, 2, 1]);
}

/**
 * op(a) · op(b) per batch entry, op = transpose where asked. On wasm: one kernel of our own where the shapes
 * fit it (wasm-matmul.ts). Otherwise B two-dimensional matMuls after explicit transposes: wasm runs a
 * matMul in XNNPACK only when the batch is 1 and no transpose flag is set, and falls back to a scalar loop
 * (~3 GFLOP/s) otherwise; for [16,64,64]·[16,64,64] the split/matMul/concat form measured 1.5× faster.
 */
function batchedMatMul(a: tf.Tensor3D, b: tf.Tensor3D, transposeA = false, transposeB = false): tf.Tensor3D {
  if (wasmBatchMatMulFits(a.shape, b.shape, transposeA, transposeB))
    return wasmBatchMatMul(a, b, transposeA, transposeB);
  return tf.tidy(() => {
    const at = transposeA ? swapLast(a) : a;
    const bt = transposeB ? swapLast(b) : b;
    const batch = at.shape[0];
    if (batch === 1) return tf.matMul(at, bt);
    const as = tf.split(at, batch, 0);
    const bs = tf.split(bt, batch, 0);
    // [1,M,K]·[1,K,N] already takes the XNNPACK path (batch 1, no flags): no reshapes needed.
    const outs = as.map((ai, i) => tf.matMul(ai as tf.Tensor3D, bs[i] as tf.Tensor3D));
    return tf.concat(outs, 0) as tf.Tensor3D;
  });
}

/**
 * Batched a [B,M,K] · b [B,K,N], or a · bᵀ for b [B,N,K] with `transposeB` (attention's q·kᵀ, without
 * materialising kᵀ). The gradients are batched products with transposed operands, never explicit transposes
 * where the wasm kernel takes them.
 */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D, opts: { transposeB?: boolean } = {}): tf.Tensor3D {
  const transposeB = opts.transposeB ?? false;
  const op = customOp<tf.Tensor3D>(([ai, bi], save) => {
    save([ai!, bi!]);
    return {
      value: batchedMatMul(ai as tf.Tensor3D, bi as tf.Tensor3D, false, transposeB),
      gradFunc: (d, saved) => {
        const [as, bs] = saved as [tf.Tensor3D, tf.Tensor3D];
        // y = a·b: da = d·bᵀ, db = aᵀ·d.  y = a·bᵀ: da = d·b, db = dᵀ·a.
        if (transposeB) return [batchedMatMul(d, bs), batchedMatMul(d, as, true, false)];
        return [batchedMatMul(d, bs, false, true), batchedMatMul(as, d, true, false)];
      },
    };
  });
  return op(a, b);
}

/** x [B,H,W,C] + v [B,C] broadcast over space (the time-embedding injection). */
export function addPerSampleChannels(x: tf.Tensor4D, v: tf.Tensor2D): tf.Tensor4D {
  const op = customOp<tf.Tensor4D>(([xi, vi]) => {
    const [b, , , c] = (xi as tf.Tensor4D).shape;
    return {
      value: tf.add(xi!, vi!.reshape([b, 1, 1, c])),
      gradFunc: (dy) => [dy, sumSpatial(dy)],
    };
  });
  return op(x, v);
}

/**
 * x·(1 + scale) + shift with scale, shift [B,C] broadcast over space (the scale-shift injection of a
 * time/label embedding after a GroupNorm, ADM's AdaGN). Hand-written gradient: spatial sums as matMuls.
 */
export function scaleShiftPerSampleChannels(x: tf.Tensor4D, scale: tf.Tensor2D, shift: tf.Tensor2D): tf.Tensor4D {
  const op = customOp<tf.Tensor4D>(([xi, si, bi], save) => {
    const [b, , , c] = (xi as tf.Tensor4D).shape;
    const gain = tf.add(si!, 1).reshape([b, 1, 1, c]);
    save([xi!, gain]);
    return {
      value: tf.add(tf.mul(xi!, gain), bi!.reshape([b, 1, 1, c])),
      gradFunc: (dy, saved) => {
        const [xs, g] = saved as [tf.Tensor4D, tf.Tensor];
        return [tf.mul(dy, g), sumSpatial(tf.mul(dy, xs) as tf.Tensor4D), sumSpatial(dy)];
      },
    };
  });
  return op(x, scale, shift);
}

/** SiLU y = x·σ(x); gradient σ + y·(1 − σ) (= σ·(1 + x·(1 − σ))), from the saved output: 4 full-size ops. */
export function silu(x: tf.Tensor): tf.Tensor {
  const op = customOp<tf.Tensor>(([xi], save) => {
    const s = tf.sigmoid(xi!);
    const y = tf.mul(xi!, s);
    save([y, s]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [ys, ss] = saved as [tf.Tensor, tf.Tensor];
        return [tf.mul(dy, tf.add(ss, tf.sub(ys, tf.mul(ys, ss))))];
      },
    };
  });
  return op(x);
}

/** Nearest-neighbour 2× upsampling; gradient = 2×2 sum pooling (resizeNearestNeighbor is slow on wasm). */
export function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const op = customOp<tf.Tensor4D>(([xi]) => {
    const [b, h, w, c] = (xi as tf.Tensor4D).shape;
    const value = tf
      .mul(xi!.reshape([b, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1]))
      .reshape([b, 2 * h, 2 * w, c]) as tf.Tensor4D;
    return {
      value,
      gradFunc: (dy) => [tf.mul(tf.avgPool(dy, 2, 2, 'valid'), 4)],
    };
  });
  return op(x);
}
