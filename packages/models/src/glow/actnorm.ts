import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../nn/params.ts';

/**
 * Below this the data-dependent init treats a channel's standard deviation as this value: a channel that is
 * (nearly) constant on the init batch — a dead ReLU inside a coupling network — would otherwise get a scale
 * of ~1e6 and blow up as soon as it carries signal.
 */
export const ACTNORM_MIN_STD = 1e-3;

/** Sets a variable from host values (float32), disposing the temporary tensor. */
export function assignValues(v: tf.Variable, values: ArrayLike<number>): void {
  const t = tf.tensor(Float32Array.from(values), v.shape);
  v.assign(t);
  t.dispose();
}

/**
 * Per-channel mean and standard deviation (floored at ACTNORM_MIN_STD) of x over batch and space: what every
 * data-dependent initialisation reads (flow actnorms and the actnorms inside coupling networks).
 */
export function channelMoments(x: tf.Tensor4D): { mean: Float32Array; std: Float32Array } {
  const [m, v] = tf.tidy(() => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return [mean, variance];
  });
  const mean = m.dataSync() as Float32Array;
  const variance = v.dataSync() as Float32Array;
  tf.dispose([m, v]);
  const std = variance.map((s) => Math.max(Math.sqrt(s), ACTNORM_MIN_STD));
  return { mean: Float32Array.from(mean), std };
}

/**
 * Activation normalisation (Glow §3.1): y = (x + b)·exp(logs) per channel, log-det H·W·Σ logs. Initialised
 * from data (`initFrom`): b = −mean, logs = −log std of the first batch, so its output has zero mean and unit
 * variance per channel; afterwards b and logs are ordinary trainable parameters.
 */
export class ActNorm {
  readonly bias: tf.Variable;
  readonly logs: tf.Variable;

  constructor(
    store: ParamStore,
    name: string,
    readonly channels: number,
  ) {
    this.bias = store.zeros(`${name}.bias`, [channels]);
    this.logs = store.zeros(`${name}.logs`, [channels]);
  }

  initFrom(x: tf.Tensor4D): void {
    const { mean, std } = channelMoments(x);
    assignValues(
      this.bias,
      mean.map((m) => -m),
    );
    assignValues(
      this.logs,
      std.map((s) => -Math.log(s)),
    );
  }

  /** exp(logs) as a [C] tensor. */
  scale(): tf.Tensor1D {
    return tf.exp(this.logs) as tf.Tensor1D;
  }

  /** Log-determinant per image of a [B, H, W, C] input: H·W·Σ logs (the same for every image). */
  logdet(height: number, width: number): tf.Scalar {
    return tf.mul(tf.sum(this.logs), height * width) as tf.Scalar;
  }

  forward(x: tf.Tensor4D): { y: tf.Tensor4D; logdet: tf.Scalar } {
    return tf.tidy(() => ({
      y: tf.mul(tf.add(x, this.bias), this.scale()) as tf.Tensor4D,
      logdet: this.logdet(x.shape[1], x.shape[2]),
    }));
  }

  inverse(y: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.sub(tf.mul(y, tf.exp(tf.neg(this.logs))), this.bias) as tf.Tensor4D);
  }
}
