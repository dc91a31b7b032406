import * as tf from '@tensorflow/tfjs';
import { customOp } from './custom-op.ts';
import { sumSpatial } from './reduce.ts';

/**
 * GroupNorm with affine, forward and backward written with matMul reductions:
 * per-sample spatial sums are ones[B,1,HW]·X[B,HW,C], group sums/broadcasts are products with a
 * [G,C] 0/1 indicator. Backward (per group, N = HW·C/G elements, x̂ the normalised input, r = 1/σ):
 *   dx = r · (γ·dy − (Σγ·dy + x̂·Σ(γ·dy·x̂)) / N),  dγ = Σ dy·x̂,  dβ = Σ dy.
 * (the group sums of γ·dy and γ·dy·x̂ are taken over per-channel sums, multiplied by γ per channel).
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

const indicatorTCache = new Map<string, Float32Array>();
/** The indicator's transpose [C,G], built directly (a transpose op per call costs more than it should). */
function groupIndicatorT(groups: number, channels: number): tf.Tensor2D {
  const key = `${groups}x${channels}`;
  let data = indicatorTCache.get(key);
  if (!data) {
    data = new Float32Array(groups * channels);
    const per = channels / groups;
    for (let c = 0; c < channels; c++) data[c * groups + Math.floor(c / per)] = 1;
    indicatorTCache.set(key, data);
  }
  return tf.tensor2d(data, [channels, groups]);
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
    const et = groupIndicatorT(groups, c);
    const mean = groupSums(sumSpatial(x4), e, et).div(n).reshape([b, 1, 1, c]);
    const centered = tf.sub(x4, mean) as tf.Tensor4D;
    const variance = groupSums(sumSpatial(tf.square(centered) as tf.Tensor4D), e, et).div(n);
    const r = tf.rsqrt(tf.add(variance, eps)).reshape([b, 1, 1, c]);
    // x̂ = (x − μ)·r is never materialised: γ·x̂ + β = (x − μ)·(r·γ) + β, one full-size op fewer.
    save([centered, r, gi!]);
    return {
      value: tf.add(tf.mul(centered, tf.mul(r, gi!)), bi!) as tf.Tensor4D,
      gradFunc: (d, saved) => {
        const [xc, rs, g] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D];
        const bs = d.shape[0];
        const e2 = groupIndicator(groups, c);
        const e2t = groupIndicatorT(groups, c);
        const r2 = rs.reshape([bs, c]) as tf.Tensor2D;
        const sDy = sumSpatial(d); // [B,C]
        const sDyX = tf.mul(sumSpatial(tf.mul(d, xc) as tf.Tensor4D), r2) as tf.Tensor2D; // Σ dy·x̂ (r is constant over space)
        const dGamma = tf.sum(sDyX, 0);
        const dBeta = tf.sum(sDy, 0);
        const a = groupSums(tf.mul(sDy, g) as tf.Tensor2D, e2, e2t).div(n); // [B,C]
        const bb = groupSums(tf.mul(sDyX, g) as tf.Tensor2D, e2, e2t).div(n);
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
