import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.ts';
import type { FeatureExtractor } from './types.ts';

export interface RandomConvFeatureOptions {
  /** Seed of the fixed random weights; default 0. */
  seed?: number;
  /** Output feature size; default 64. */
  dims?: number;
  /** Channels of the first conv layer (then 2×, 4×); default 32. */
  width?: number;
  /** Images per forward pass, to bound memory; default 64. */
  batchSize?: number;
}

interface Weights {
  kernels: tf.Tensor4D[];
  projection: tf.Tensor2D;
}

/**
 * A fixed, seeded random-weight conv net as an offline feature extractor: 3 conv3×3 + ReLU layers
 * (stride 1, 2, 2; width, 2·width, 4·width channels), global average pooling of the input and of every
 * layer (colour and texture at three scales), then a fixed Gaussian projection to `dims`. Random conv
 * features are a known cheap stand-in for Inception features on small images; they need no download
 * and give the same weights on every backend (drawn by our Rng). Weights are made per input channel
 * count on first use. The name encodes seed, dims and width.
 */
export function randomConvFeatures(options: RandomConvFeatureOptions = {}): FeatureExtractor & { dispose(): void } {
  const seed = options.seed ?? 0;
  const dims = options.dims ?? 64;
  const width = options.width ?? 32;
  const batchSize = options.batchSize ?? 64;
  for (const [field, value] of [
    ['dims', dims],
    ['width', width],
    ['batchSize', batchSize],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`randomConvFeatures: ${field} must be a positive integer, got ${value}`);
  }
  // Weights live outside any tf.tidy (tf.keep) for the extractor's lifetime, until dispose().
  const byChannels = new Map<number, Weights>();

  const weightsFor = (channels: number): Weights => {
    let w = byChannels.get(channels);
    if (w) return w;
    const rng = new Rng(seed).fork(channels);
    const sizes = [channels, width, 2 * width, 4 * width];
    const kernels: tf.Tensor4D[] = [];
    for (let l = 0; l < 3; l++) {
      const fanIn = 9 * sizes[l]!;
      const values = rng.normalArray(fanIn * sizes[l + 1]!).map((v) => v * Math.sqrt(2 / fanIn)); // He init
      kernels.push(tf.keep(tf.tensor4d(values, [3, 3, sizes[l]!, sizes[l + 1]!])));
    }
    const pooled = channels + 7 * width;
    const projection = tf.keep(
      tf.tensor2d(
        rng.normalArray(pooled * dims).map((v) => v / Math.sqrt(pooled)),
        [pooled, dims],
      ),
    );
    w = { kernels, projection };
    byChannels.set(channels, w);
    return w;
  };

  const forward = (images: tf.Tensor4D): tf.Tensor2D =>
    tf.tidy(() => {
      const { kernels, projection } = weightsFor(images.shape[3]);
      const pools: tf.Tensor2D[] = [tf.mean(images, [1, 2]) as tf.Tensor2D];
      let h: tf.Tensor4D = images;
      kernels.forEach((kernel, l) => {
        h = tf.relu(tf.conv2d(h, kernel, l === 0 ? 1 : 2, 'same'));
        pools.push(tf.mean(h, [1, 2]) as tf.Tensor2D);
      });
      return tf.matMul(tf.concat(pools, 1), projection);
    });

  return {
    name: `random-conv-v1(seed=${seed},dims=${dims},width=${width})`,
    dims,
    async extract(images: tf.Tensor4D): Promise<Float32Array> {
      if (images.rank !== 4) throw new RangeError(`extract: images must be [n, h, w, c], got rank ${images.rank}`);
      const n = images.shape[0];
      const out = new Float32Array(n * dims);
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        const features = tf.tidy(() => forward(images.slice([start, 0, 0, 0], [size, -1, -1, -1])));
        out.set(await features.data(), start * dims);
        features.dispose();
      }
      return out;
    },
    dispose() {
      for (const w of byChannels.values()) {
        for (const k of w.kernels) k.dispose();
        w.projection.dispose();
      }
      byChannels.clear();
    },
  };
}

/** Runs the extractor over batches (not disposed) and concatenates the features. */
export async function collectFeatures(
  extractor: FeatureExtractor,
  batches: Iterable<tf.Tensor4D> | AsyncIterable<tf.Tensor4D>,
): Promise<{ features: Float32Array; count: number }> {
  const parts: Float32Array[] = [];
  for await (const batch of batches) parts.push(await extractor.extract(batch));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const features = new Float32Array(total);
  let offset = 0;
  for (const p of parts) {
    features.set(p, offset);
    offset += p.length;
  }
  return { features, count: total / extractor.dims };
}
