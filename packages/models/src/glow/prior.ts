import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../nn/params.ts';
import { addPerSampleChannels, dense } from '../nn/ops.ts';
import { ZeroConv } from './conv-layers.ts';
import { splitChannels } from './coupling.ts';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Diagonal Gaussian: mean and log standard deviation, [B, H, W, C] or shapes that broadcast to it. */
export interface GaussianParams {
  mean: tf.Tensor4D;
  logs: tf.Tensor4D;
}

/** log N(z; mean, exp(logs)²) summed over each image: [B], in nats. */
export function gaussianLogProb(z: tf.Tensor4D, p: GaussianParams): tf.Tensor1D {
  return tf.tidy(() => {
    const d = tf.mul(tf.sub(z, p.mean), tf.exp(tf.neg(p.logs)));
    const perValue = tf.add(tf.add(tf.mul(tf.square(d), 0.5), p.logs), HALF_LOG_2PI);
    return tf.neg(tf.sum(perValue, [1, 2, 3])) as tf.Tensor1D;
  });
}

/** z = mean + exp(logs)·(temperature·eps). */
export function gaussianSample(p: GaussianParams, eps: tf.Tensor4D, temperature: number): tf.Tensor4D {
  return tf.tidy(() => tf.add(p.mean, tf.mul(tf.exp(p.logs), tf.mul(eps, temperature))) as tf.Tensor4D);
}

/** (z − mean)·exp(−logs): the standard-normal noise that gaussianSample at temperature 1 maps to z. */
export function gaussianEps(p: GaussianParams, z: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.mul(tf.sub(z, p.mean), tf.exp(tf.neg(p.logs))) as tf.Tensor4D);
}

/** Per-class [mean, logs] offsets, zero-initialised: a class-conditional prior starts as the unconditional one. */
class ClassEmbedding {
  readonly table: tf.Variable;
  constructor(store: ParamStore, name: string, numClasses: number, width: number) {
    this.table = store.zeros(`${name}.class_emb`, [numClasses, width]);
  }
  /** [B, width] rows for one-hot labels [B, numClasses]. */
  apply(oneHot: tf.Tensor2D): tf.Tensor2D {
    return dense(oneHot, this.table as tf.Tensor2D);
  }
}

/**
 * The learned prior of the half split off after a level (openai/glow `split2d_prior`): N(mean, e^logs) with
 * [mean, logs] = zero-initialised conv3×3 of the half that continues (z1), plus a per-class offset for a
 * class-conditional model. It starts as N(0, I).
 */
export class SplitPrior {
  private readonly conv: ZeroConv;
  private readonly classes: ClassEmbedding | undefined;

  constructor(
    store: ParamStore,
    name: string,
    c1: number,
    readonly c2: number,
    numClasses: number | undefined,
  ) {
    this.conv = new ZeroConv(store, `${name}.conv`, c1, 2 * c2, 3);
    this.classes = numClasses === undefined ? undefined : new ClassEmbedding(store, name, numClasses, 2 * c2);
  }

  params(z1: tf.Tensor4D, oneHot: tf.Tensor2D | null): GaussianParams {
    return tf.tidy(() => {
      let h = this.conv.apply(z1);
      if (this.classes && oneHot) h = addPerSampleChannels(h, this.classes.apply(oneHot));
      const [mean, logs] = splitChannels(h, this.c2);
      return { mean, logs };
    });
  }
}

/**
 * The prior of the top level's output: learned mean and log-scale per channel (openai/glow `learntop`), plus a
 * learned per-class mean and log-scale for a class-conditional model (the paper's class-conditional prior).
 * Zero-initialised, i.e. N(0, I) at the start.
 */
export class TopPrior {
  readonly meanLogs: tf.Variable;
  private readonly classes: ClassEmbedding | undefined;

  constructor(
    store: ParamStore,
    name: string,
    readonly channels: number,
    numClasses: number | undefined,
  ) {
    this.meanLogs = store.zeros(`${name}.mean_logs`, [2 * channels]);
    this.classes = numClasses === undefined ? undefined : new ClassEmbedding(store, name, numClasses, 2 * channels);
  }

  /** [mean, logs] as [B, 1, 1, C] (or [1, 1, 1, C] without classes): they broadcast over space. */
  params(oneHot: tf.Tensor2D | null): GaussianParams {
    return tf.tidy(() => {
      const c2 = 2 * this.channels;
      let rows = this.meanLogs.reshape([1, c2]) as tf.Tensor2D;
      if (this.classes && oneHot) rows = tf.add(rows, this.classes.apply(oneHot)) as tf.Tensor2D;
      const [mean, logs] = splitChannels(rows.reshape([rows.shape[0], 1, 1, c2]) as tf.Tensor4D, this.channels);
      return { mean, logs };
    });
  }
}
