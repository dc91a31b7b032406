import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../rng.ts';
import { randomConvFeatures, type RandomConvFeatureOptions } from '../random-conv.ts';
import type { EvaluationExtractor } from './types.ts';

export interface OfflineExtractorOptions extends RandomConvFeatureOptions {
  /** Classes of the random softmax head used for IS; default 10. */
  classes?: number;
  /** Softmax temperature of that head; default 1. */
  temperature?: number;
}

/** The name offlineExtractor(options) reports, without building it (no tensors). */
export function offlineExtractorName(options: OfflineExtractorOptions = {}): string {
  const seed = options.seed ?? 0;
  return `offline:random-conv-v1(seed=${seed},dims=${options.dims ?? 64},width=${options.width ?? 32})+random-softmax-is-v1(classes=${options.classes ?? 10},t=${options.temperature ?? 1})`;
}

/**
 * The extractor that works with no download: the fixed random conv features of randomConvFeatures for
 * FID/KID, and for IS a fixed random linear "classifier" on those features (softmax of a seeded Gaussian
 * projection, standardised per image). IS here measures how confidently and how evenly images fall into
 * the cells of a random partition of feature space: useful to compare checkpoints of one model with the
 * same extractor and sample count, NOT comparable to paper Inception Scores (that needs InceptionV3).
 */
export function offlineExtractor(options: OfflineExtractorOptions = {}): EvaluationExtractor {
  const features = randomConvFeatures(options);
  const classes = options.classes ?? 10;
  const temperature = options.temperature ?? 1;
  if (!Number.isInteger(classes) || classes < 2)
    throw new RangeError(`offlineExtractor: classes must be an integer ≥ 2, got ${classes}`);
  if (!(temperature > 0)) throw new RangeError(`offlineExtractor: temperature must be > 0, got ${temperature}`);
  const seed = options.seed ?? 0;
  const head = tf.keep(
    tf.tensor2d(new Rng(seed).fork(0x15).normalArray(features.dims * classes), [features.dims, classes]),
  );
  return {
    name: offlineExtractorName(options),
    dims: features.dims,
    numClasses: classes,
    paperComparable: false,
    async extract(images) {
      const f = await features.extract(images);
      const n = images.shape[0];
      const probs = tf.tidy(() => {
        const x = tf.tensor2d(f, [n, features.dims]);
        const { mean, variance } = tf.moments(x, 1, true);
        const z = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6)));
        return tf.softmax(tf.div(tf.matMul(z, head), temperature));
      });
      const probabilities = (await probs.data()) as Float32Array;
      probs.dispose();
      return { features: f, probabilities };
    },
    dispose() {
      features.dispose();
      head.dispose();
    },
  };
}
