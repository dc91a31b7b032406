import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.ts';
import { throwIfAborted, yieldToEventLoop } from '../diffusion/samplers/yield.ts';
import { dequantize, glowToImages } from './data.ts';
import { DEFAULT_TEMPERATURE, type Glow } from './model.ts';

export interface GlowSampleOptions {
  model: Glow;
  count: number;
  seed: number;
  /** Scales the priors' standard deviations (default 0.7: Glow's samples are cleaner below 1). */
  temperature?: number;
  /** Class of each image (length count) for a class-conditional model. */
  labels?: ArrayLike<number>;
  /**
   * Index of the first image in the request: image k uses the noise stream (seed, firstImageIndex + k), so a
   * request split across batches or workers gives the same images.
   */
  firstImageIndex?: number;
  /** Images decoded per pass (default all): bounds memory for large requests. */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Samples images in [-1, 1]: one pass of the inverse flow per batch (no iterative denoising), the latents
 * drawn from the priors at temperature T.
 */
export async function glowSample(opts: GlowSampleOptions): Promise<tf.Tensor4D> {
  const { model, count } = opts;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be an integer ≥ 1, got ${count}`);
  const first = opts.firstImageIndex ?? 0;
  if (!Number.isSafeInteger(first) || first < 0)
    throw new RangeError(`firstImageIndex must be an integer ≥ 0, got ${first}`);
  const batchSize = opts.batchSize ?? count;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  const numClasses = model.config.numClasses;
  if (numClasses !== undefined) {
    if (!opts.labels || opts.labels.length !== count)
      throw new RangeError(`labels must give a class for each of the ${count} images (the model is class-conditional)`);
    for (const l of Array.from(opts.labels))
      if (!Number.isInteger(l) || l < 0 || l >= numClasses)
        throw new RangeError(`labels must be integers in [0, ${numClasses - 1}], got ${l}`);
  }
  const base = new Rng(opts.seed);
  const parts: tf.Tensor4D[] = [];
  try {
    for (let start = 0; start < count; start += batchSize) {
      throwIfAborted(opts.signal);
      const n = Math.min(batchSize, count - start);
      const shapes = model.latentShapes(n);
      const perImage = shapes.map(([, h, w, c]) => h * w * c);
      const values = shapes.map((_, j) => new Float32Array(n * perImage[j]!));
      for (let i = 0; i < n; i++) {
        const rng = base.fork(first + start + i);
        perImage.forEach((size, j) => values[j]!.set(rng.normalArray(size), i * size));
      }
      const eps = shapes.map((s, j) => tf.tensor4d(values[j]!, s));
      const labels =
        numClasses === undefined ? undefined : tf.tensor1d(Array.from(opts.labels!).slice(start, start + n), 'int32');
      const decodeOpts = labels
        ? { labels, temperature: opts.temperature ?? DEFAULT_TEMPERATURE }
        : { temperature: opts.temperature ?? DEFAULT_TEMPERATURE };
      try {
        const y = model.decodeEps(eps, decodeOpts);
        parts.push(glowToImages(y, model.config.nBits));
        y.dispose();
      } finally {
        tf.dispose([...eps, ...(labels ? [labels] : [])]);
      }
      opts.onProgress?.(start + n, count);
      await yieldToEventLoop();
    }
    return parts.length === 1 ? parts[0]! : (tf.concat(parts) as tf.Tensor4D);
  } finally {
    if (parts.length > 1) tf.dispose(parts);
  }
}

/** Exact encoding of images in [-1, 1] to every level's latent (deterministic: each value at its bin's centre). */
export function glowEncode(model: Glow, images: tf.Tensor4D): tf.Tensor4D[] {
  const y = dequantize(images, model.config.nBits, 'center');
  try {
    return model.encode(y);
  } finally {
    y.dispose();
  }
}

/** Latents back to images in [-1, 1]; glowDecode(glowEncode(x)) is x at the model's nBits. */
export function glowDecode(model: Glow, latents: tf.Tensor4D[]): tf.Tensor4D {
  const y = model.inverse(latents);
  try {
    return glowToImages(y, model.config.nBits);
  } finally {
    y.dispose();
  }
}

/**
 * `steps` images along the straight line between the latents of two images a and b ([R, R, C] or
 * [1, R, R, C], in [-1, 1]): z(t) = (1 − t)·z_a + t·z_b for t = 0, 1/(steps−1), …, 1, decoded. The first and
 * last images are a and b (at the model's nBits).
 */
export function glowInterpolate(model: Glow, a: tf.Tensor, b: tf.Tensor, steps: number): tf.Tensor4D {
  if (!Number.isInteger(steps) || steps < 2) throw new RangeError(`steps must be an integer ≥ 2, got ${steps}`);
  const { resolution: r, channels: c } = model.config;
  const asBatch = (x: tf.Tensor, name: string): tf.Tensor4D => {
    const ok =
      (x.rank === 3 && x.shape.join() === [r, r, c].join()) || (x.rank === 4 && x.shape.join() === [1, r, r, c].join());
    if (!ok)
      throw new RangeError(
        `${name} must be one image [${r}, ${r}, ${c}] or [1, ${r}, ${r}, ${c}], got [${x.shape.join(', ')}]`,
      );
    return x.reshape([1, r, r, c]) as tf.Tensor4D;
  };
  return tf.tidy(() => {
    const za = glowEncode(model, asBatch(a, 'a'));
    const zb = glowEncode(model, asBatch(b, 'b'));
    const t = tf.linspace(0, 1, steps).reshape([steps, 1, 1, 1]);
    const mixed = za.map((z, j) => tf.add(tf.mul(tf.sub(1, t), z), tf.mul(t, zb[j]!)) as tf.Tensor4D);
    return glowDecode(model, mixed);
  });
}
