import * as tf from '@tensorflow/tfjs';

/**
 * Glow's data space. Images arrive as 8-bit values rescaled to [-1, 1] (what the dataset reader gives every
 * model). With n_bits bits per value there are n_bins = 2^n_bits bins; bin k ∈ {0, …, n_bins − 1} of an 8-bit
 * value v is ⌊v / 2^(8 − n_bits)⌋, and the flow models y = (k + u)/n_bins − ½ ∈ [−½, ½) with u ~ U[0, 1)
 * (uniform dequantization, Theis et al. 2016; Glow's preprocessing).
 *
 * Bits/dim. A density p over y gives the discrete value the probability ≈ p(y)·(1/n_bins)^D (D = H·W·C), so
 *   bits/dim = (−log p(y) + D·ln n_bins) / (D·ln 2) = −log₂ p(y)/D + n_bits,
 * an upper bound (in expectation over u) on the discrete model's code length. A model that is uniform over
 * the cube, p ≡ 1, scores exactly n_bits. Numbers are comparable across models only at the same n_bits;
 * at n_bits = 8 they compare with the usual bits/dim of CIFAR-10 or with DDPM's variational bound.
 */

export function numBins(nBits: number): number {
  if (!Number.isInteger(nBits) || nBits < 1 || nBits > 8) throw new RangeError(`nBits must be 1..8, got ${nBits}`);
  return 2 ** nBits;
}

/** Bin indices 0..n_bins−1 (as float32) of images in [-1, 1]. */
export function toBins(images: tf.Tensor4D, nBits: number): tf.Tensor4D {
  const shift = 2 ** (8 - nBits);
  return tf.tidy(() => {
    const v = tf.clipByValue(tf.round(tf.mul(tf.add(images, 1), 127.5)), 0, 255);
    return (shift === 1 ? v : tf.floor(tf.div(v, shift))) as tf.Tensor4D;
  });
}

/**
 * The flow's input: y = (bin + u)/n_bins − ½. `noise` is u ∈ [0, 1) of the same shape (training, held-out
 * likelihoods), or 'center' for u = ½ (deterministic encoding of an image to its latent).
 */
export function dequantize(images: tf.Tensor4D, nBits: number, noise: tf.Tensor4D | 'center'): tf.Tensor4D {
  const bins = numBins(nBits);
  return tf.tidy(() => {
    const k = toBins(images, nBits);
    const u = noise === 'center' ? 0.5 : noise;
    return tf.sub(tf.div(tf.add(k, u), bins), 0.5) as tf.Tensor4D;
  });
}

/**
 * Flow space back to images in [-1, 1]: bin ⌊(y + ½)·n_bins⌋ clipped to the valid bins, then its 8-bit value
 * bin·2^(8−n_bits) (as openai/glow's postprocess), rescaled.
 */
export function glowToImages(y: tf.Tensor4D, nBits: number): tf.Tensor4D {
  const bins = numBins(nBits);
  return tf.tidy(() => {
    const k = tf.clipByValue(tf.floor(tf.mul(tf.add(y, 0.5), bins)), 0, bins - 1);
    return tf.sub(tf.div(tf.mul(k, 256 / bins), 127.5), 1) as tf.Tensor4D;
  });
}

/** bits/dim per image from the log-density of y (nats, [B]) and D values per image. */
export function bitsPerDimFromLogDensity(logDensity: tf.Tensor1D, dims: number, nBits: number): tf.Tensor1D {
  return tf.tidy(() => tf.add(tf.div(tf.neg(logDensity), dims * Math.LN2), nBits) as tf.Tensor1D);
}
