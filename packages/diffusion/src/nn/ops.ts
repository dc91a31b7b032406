import * as tf from '@tensorflow/tfjs';
import { customOp } from './custom-op.ts';
import { sumSpatial, sumToChannels, t2d } from './reduce.ts';

/**
 * Small ops with hand-written gradients. TF.js autodiff would reduce broadcasts over outer axes and use
 * matMul transpose flags, both ~10-20× slower on wasm than the explicit matMul forms below.
 */

/** x [N, Cin] · W [Cin, Cout] + b. */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  const op = customOp<tf.Tensor2D>(([xi, wi, bi], save) => {
    save([xi!, wi!]);
    const value = tf.fused.matMul({ a: xi as tf.Tensor2D, b: wi as tf.Tensor2D, bias: bi }) as tf.Tensor2D;
    return {
      value,
      gradFunc: (d, saved) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const grads: tf.Tensor[] = [tf.matMul(d, t2d(ws)), tf.matMul(t2d(xs), d)];
        if (bi) grads.push(sumToChannels(d));
        return grads;
      },
    };
  });
  return b ? op(x, w, b) : op(x, w);
}

/** Batched a [B,M,K] · b [B,K,N] with explicit transposes in the gradient. */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const op = customOp<tf.Tensor3D>(([ai, bi], save) => {
    save([ai!, bi!]);
    return {
      value: tf.matMul(ai as tf.Tensor3D, bi as tf.Tensor3D),
      gradFunc: (d, saved) => {
        const [as, bs] = saved as [tf.Tensor3D, tf.Tensor3D];
        return [
          tf.matMul(d, tf.transpose(bs, [0, 2, 1]) as tf.Tensor3D),
          tf.matMul(tf.transpose(as, [0, 2, 1]) as tf.Tensor3D, d),
        ];
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

/** SiLU x·σ(x), gradient σ(x)·(1 + x·(1 − σ(x))) computed from the saved input in one pass of ops. */
export function silu(x: tf.Tensor): tf.Tensor {
  const op = customOp<tf.Tensor>(([xi], save) => {
    const s = tf.sigmoid(xi!);
    save([xi!, s]);
    return {
      value: tf.mul(xi!, s),
      gradFunc: (dy, saved) => {
        const [xs, ss] = saved as [tf.Tensor, tf.Tensor];
        return [tf.mul(dy, tf.mul(ss, tf.add(1, tf.mul(xs, tf.sub(1, ss)))))];
      },
    };
  });
  return op(x);
}

/** Nearest-neighbour 2× upsampling; gradient = 2×2 sum pooling (resizeNearestNeighbor is slow on wasm). */
export function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const op = customOp<tf.Tensor4D>(([xi]) => {
    const [b, h, w, c] = (xi as tf.Tensor4D).shape;
    const value = tf.mul(xi!.reshape([b, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1])).reshape([b, 2 * h, 2 * w, c]) as tf.Tensor4D;
    return {
      value,
      gradFunc: (dy) => [tf.mul(tf.avgPool(dy, 2, 2, 'valid'), 4)],
    };
  });
  return op(x);
}
