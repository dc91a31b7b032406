import type * as tf from '@tensorflow/tfjs';

/**
 * Maps images to feature vectors for FID / KID (or class probabilities for IS). `name` identifies the
 * extractor and its configuration: metrics computed with different names must never be compared.
 */
export interface FeatureExtractor {
  name: string;
  dims: number;
  /** images [n, h, w, c] in [-1, 1] → n×dims features, row-major. Does not dispose `images`. */
  extract(images: tf.Tensor4D): Promise<Float32Array>;
  /** Frees the extractor's weights, when it holds any. */
  dispose?(): void;
}
