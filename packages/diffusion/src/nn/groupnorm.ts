import * as tf from '@tensorflow/tfjs';
import { customOp } from './custom-op.ts';
import { sumSpatial } from './reduce.ts';

/**
 * GroupNorm with affine, forward and backward written with matMul reductions:
 * per-sample spatial sums are global poolings, group means broadcast back to channels are ONE product with
 * the [C,C] matrix EᵀE/N (E the [G,C] 0/1 group indicator, N the elements per group): half the ops of
 * ·Eᵀ then ·E then ÷N, which counts on the tiny model where per-op dispatch is a good part of a step.
 * Backward (per group, N = HW·C/G elements, x̂ the normalised input, r = 1/σ):
 *   dx = r · (γ·dy − (Σγ·dy + x̂·Σ(γ·dy·x̂)) / N),  dγ = Σ dy·x̂,  dβ = Σ dy.
 * (the group sums of γ·dy and γ·dy·x̂ are taken over per-channel sums, multiplied by γ per channel).
 */

const groupMeanCache = new Map<string, Float32Array>();
/** [C,C] matrix M with M[i,j] = 1/n where channels i and j share a group: s·M = per-channel group means. */
function groupMeanMatrix(groups: number, channels: number, n: number): tf.Tensor2D {
  const key = `${groups}x${channels}/${n}`;
  let data = groupMeanCache.get(key);
  if (!data) {
    data = new Float32Array(channels * channels);
    const per = channels / groups;
    for (let i = 0; i < channels; i++) {
      const g0 = Math.floor(i / per) * per;
      for (let j = g0; j < g0 + per; j++) data[i * channels + j] = 1 / n;
    }
    groupMeanCache.set(key, data);
  }
  return tf.tensor2d(data, [channels, channels]);
}

export function groupNorm(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, eps = 1e-5): tf.Tensor4D {
  const [, h, w, c] = x.shape;
  if (c % groups !== 0) throw new RangeError(`groupNorm: channels (${c}) must be divisible by groups (${groups})`);
  const n = h * w * (c / groups);
  const op = customOp<tf.Tensor4D>(([xi, gi, bi], save) => {
    const x4 = xi as tf.Tensor4D;
    const b = x4.shape[0];
    const m = groupMeanMatrix(groups, c, n);
    const mean = tf.matMul(sumSpatial(x4), m).reshape([b, 1, 1, c]);
    const centered = tf.sub(x4, mean) as tf.Tensor4D;
    const variance = tf.matMul(sumSpatial(tf.square(centered) as tf.Tensor4D), m);
    const r = tf.rsqrt(tf.add(variance, eps)).reshape([b, 1, 1, c]);
    // x̂ = (x − μ)·r is never materialised: γ·x̂ + β = (x − μ)·(r·γ) + β, one full-size op fewer.
    save([centered, r, gi!]);
    return {
      value: tf.add(tf.mul(centered, tf.mul(r, gi!)), bi!) as tf.Tensor4D,
      gradFunc: (d, saved) => {
        const [xc, rs, g] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D];
        const bs = d.shape[0];
        const m2 = groupMeanMatrix(groups, c, n);
        const r2 = rs.reshape([bs, c]) as tf.Tensor2D;
        const sDy = sumSpatial(d); // [B,C]
        const sDyX = tf.mul(sumSpatial(tf.mul(d, xc) as tf.Tensor4D), r2) as tf.Tensor2D; // Σ dy·x̂ (r is constant over space)
        const dGamma = tf.sum(sDyX, 0);
        const dBeta = tf.sum(sDy, 0);
        const a = tf.matMul(tf.mul(sDy, g) as tf.Tensor2D, m2); // [B,C]
        const bb = tf.matMul(tf.mul(sDyX, g) as tf.Tensor2D, m2);
        // dx = r·(γ·dy − a − x̂·bb) = dy·(r·γ) − (x−μ)·(r²·bb) − r·a: per-(sample, channel) factors, 4 full-size ops.
        const dyScale = tf.mul(rs, g);
        const xcScale = tf.mul(tf.mul(r2, r2), bb).reshape([bs, 1, 1, c]);
        const offset = tf.mul(r2, a).reshape([bs, 1, 1, c]);
        const dx = tf.sub(tf.sub(tf.mul(d, dyScale), tf.mul(xc, xcScale)), offset);
        return [dx, dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta);
}
