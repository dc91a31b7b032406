import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.ts';
import { yieldToEventLoop } from '../diffusion/samplers/yield.ts';
import { dequantize } from './data.ts';
import type { Glow } from './model.ts';

export interface BitsPerDimOptions {
  model: Glow;
  /** Images in [-1, 1], [N, R, R, C]. */
  images: tf.Tensor4D;
  /** int32 [N] labels for a class-conditional model. */
  labels?: tf.Tensor1D;
  /** Seed of the dequantization noise: image k uses stream fork(firstImageIndex + k), whatever the batching. */
  seed: number;
  firstImageIndex?: number;
  /** Images per forward pass (default 32). */
  batchSize?: number;
}

export interface BitsPerDimResult {
  /** Per image, bits/dim (data.ts). */
  perImage: Float64Array;
  mean: number;
}

/**
 * Negative log-likelihood of a fixed set of images in bits/dim: the held-out number a run reports. The
 * dequantization noise is drawn per image from the seed, so the same images and seed give the same number at
 * any batch size, on every backend (up to float rounding), at every evaluation of a run.
 */
export async function evaluateBitsPerDim(opts: BitsPerDimOptions): Promise<BitsPerDimResult> {
  const { model, images } = opts;
  const [n, h, w, c] = images.shape;
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  if (opts.labels && opts.labels.shape[0] !== n)
    throw new RangeError(`labels must have ${n} entries, got ${opts.labels.shape[0]}`);
  const first = opts.firstImageIndex ?? 0;
  const base = new Rng(opts.seed);
  const perImage = new Float64Array(n);
  const size = h * w * c;
  for (let start = 0; start < n; start += batchSize) {
    const m = Math.min(batchSize, n - start);
    const noise = new Float32Array(m * size);
    for (let i = 0; i < m; i++) noise.set(base.fork(first + start + i).uniformArray(size), i * size);
    const bpd = tf.tidy(() => {
      const x = images.slice([start, 0, 0, 0], [m, -1, -1, -1]) as tf.Tensor4D;
      const y = dequantize(x, model.config.nBits, tf.tensor4d(noise, [m, h, w, c]));
      return model.bitsPerDim(y, opts.labels?.slice([start], [m]));
    });
    perImage.set(await bpd.data(), start);
    bpd.dispose();
    await yieldToEventLoop();
  }
  let sum = 0;
  for (const v of perImage) sum += v;
  return { perImage, mean: sum / n };
}
