import * as tf from '@tensorflow/tfjs';
import { customOp } from './custom-op.ts';
import { sumSpatial } from './reduce.ts';

/**
 * GroupNorm with affine, forward and backward written with matMul reductions:
 * per-sample spatial sums are ones[B,1,HW]·X[B,HW,C], group sums/broadcasts are products with a
 * [G,C] 0/1 indicator. Backward (per group, N = HW·C/G elements, x̂ the normalised input, r = 1/σ):
 *   dx = r · (γ·dy − (Σγ·dy + x̂·Σ(γ·dy·x̂)) / N),  dγ = Σ dy·x̂,  dβ = Σ dy.
 */

const indicatorCache = new Map<string, Float32Array>();
function groupIndicator(groups: number, channels: number): tf.Tensor2D {
  const key = `${groups}x${channels}`;
  let data = indicatorCache.get(key);
  if (!data) {
    data = new Float32Array(groups * channels);
    const per = channels / groups;
    for (let c = 0; c < channels; c++) data[Math.floor(c / per) * channels + c] = 1;
    indicatorCache.set(key, data);
  }
  return tf.tensor2d(data, [groups, channels]);
}

/** [B,C] per-channel sums → [B,C] sums of each channel's group. */
function groupSums(s: tf.Tensor2D, e: tf.Tensor2D, et: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(tf.matMul(s, et), e);
}

export function groupNorm(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, eps = 1e-5): tf.Tensor4D {
  const [, h, w, c] = x.shape;
  if (c % groups !== 0) throw new RangeError(`groupNorm: channels (${c}) must be divisible by groups (${groups})`);
  const n = h * w * (c / groups);
  const op = customOp<tf.Tensor4D>(([xi, gi, bi], save) => {
    const x4 = xi as tf.Tensor4D;
    const b = x4.shape[0];
    const e = groupIndicator(groups, c);
    const et = tf.transpose(e);
    const mean = groupSums(sumSpatial(x4), e, et).div(n).reshape([b, 1, 1, c]);
    const centered = tf.sub(x4, mean) as tf.Tensor4D;
    const variance = groupSums(sumSpatial(tf.square(centered) as tf.Tensor4D), e, et).div(n);
    const r = tf.rsqrt(tf.add(variance, eps)).reshape([b, 1, 1, c]);
    const xhat = tf.mul(centered, r) as tf.Tensor4D;
    save([xhat, r, gi!]);
    return {
      value: tf.add(tf.mul(xhat, gi!), bi!) as tf.Tensor4D,
      gradFunc: (d, saved) => {
        const [xh, rs, g] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D];
        const bs = d.shape[0];
        const e2 = groupIndicator(groups, c);
        const e2t = tf.transpose(e2);
        const sDy = sumSpatial(d); // [B,C]
        const sDyX = sumSpatial(tf.mul(d, xh) as tf.Tensor4D); // [B,C]
        const dGamma = tf.sum(sDyX, 0);
        const dBeta = tf.sum(sDy, 0);
        const a = groupSums(tf.mul(sDy, g) as tf.Tensor2D, e2, e2t).div(n).reshape([bs, 1, 1, c]);
        const bb = groupSums(tf.mul(sDyX, g) as tf.Tensor2D, e2, e2t).div(n).reshape([bs, 1, 1, c]);
        const inner = tf.sub(tf.mul(d, g), tf.add(a, tf.mul(xh, bb)));
        return [tf.mul(inner, rs), dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta);
}
