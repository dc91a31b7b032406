import type * as tf from '@tensorflow/tfjs';

/**
 * What an evaluation needs from a network: features for FID / KID and class probabilities for IS,
 * from one forward pass. `name` identifies the network and its configuration; numbers computed with
 * different names (or sample counts) are never comparable.
 */
export interface EvaluationExtractor {
  name: string;
  /** Feature size (FID/KID). */
  dims: number;
  /** Classes of the probability head (IS). */
  numClasses: number;
  /**
   * True only for the standard InceptionV3 (pool3 features, 1008/1000-way logits) at 299×299: the
   * numbers can then be set beside published FID/IS. The offline extractor is not.
   */
  paperComparable: boolean;
  /** images [n, h, w, c] in [-1, 1] → row-major n×dims features and n×numClasses probabilities. Does not dispose `images`. */
  extract(images: tf.Tensor4D): Promise<{ features: Float32Array; probabilities: Float32Array }>;
  dispose(): void;
}
