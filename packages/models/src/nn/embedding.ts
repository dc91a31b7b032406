import * as tf from '@tensorflow/tfjs';

/**
 * Sinusoidal timestep embedding (Transformer / DDPM): [sin(t·f_i), cos(t·f_i)] with
 * f_i = exp(−ln(10000)·i/(half−1)), i < half = dim/2. t may be fractional (continuous-time samplers).
 */
export function timestepEmbedding(t: tf.Tensor1D, dim: number): tf.Tensor2D {
  if (dim % 2 !== 0 || dim < 4) throw new RangeError(`timestepEmbedding: dim must be even and ≥ 4, got ${dim}`);
  const half = dim / 2;
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = Math.exp((-Math.log(10000) * i) / (half - 1));
  return tf.tidy(() => {
    const args = tf.matMul(
      tf.cast(t, 'float32').reshape([t.shape[0], 1]) as tf.Tensor2D,
      tf.tensor2d(freqs, [1, half]),
    );
    return tf.concat([tf.sin(args), tf.cos(args)], 1) as tf.Tensor2D;
  });
}
