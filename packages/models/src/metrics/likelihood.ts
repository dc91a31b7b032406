import * as tf from '@tensorflow/tfjs';

/**
 * Likelihood pieces of the variational bound (Improved DDPM, `losses.py`), as differentiable tf ops so
 * the hybrid loss (L_simple + λ·L_vlb) can reuse them. All results are in nats, elementwise.
 */

/** KL(N(mean1, e^logvar1) || N(mean2, e^logvar2)), elementwise, broadcasting. */
export function normalKl(
  mean1: tf.Tensor,
  logvar1: tf.Tensor | number,
  mean2: tf.Tensor | number,
  logvar2: tf.Tensor | number,
): tf.Tensor {
  return tf.tidy(() => {
    const lv1 = tf.scalar(0).add(logvar1);
    const lv2 = tf.scalar(0).add(logvar2);
    return tf.mul(
      0.5,
      tf.add(
        tf.add(tf.sub(-1, lv1).add(lv2), tf.exp(tf.sub(lv1, lv2))),
        tf.mul(tf.square(tf.sub(mean1, mean2)), tf.exp(tf.neg(lv2))),
      ),
    );
  });
}

/** Fast approximation of the standard normal CDF (as in Improved DDPM / GPT-2's GELU). */
export function approxStandardNormalCdf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.mul(0.5, tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))))),
  );
}

/**
 * log-likelihood of data x ∈ [-1, 1] (8-bit images rescaled) under a Gaussian discretized into 256
 * bins of width 2/255; the edge bins take the whole tail. `logScales` is log σ (= ½ log variance).
 */
export function discretizedGaussianLogLikelihood(x: tf.Tensor, means: tf.Tensor, logScales: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const centered = tf.sub(x, means);
    const invStd = tf.exp(tf.neg(logScales));
    const cdfPlus = approxStandardNormalCdf(tf.mul(invStd, tf.add(centered, 1 / 255)));
    const cdfMin = approxStandardNormalCdf(tf.mul(invStd, tf.sub(centered, 1 / 255)));
    const logCdfPlus = tf.log(tf.maximum(cdfPlus, 1e-12));
    const logOneMinusCdfMin = tf.log(tf.maximum(tf.sub(1, cdfMin), 1e-12));
    const logCdfDelta = tf.log(tf.maximum(tf.sub(cdfPlus, cdfMin), 1e-12));
    return tf.where(tf.less(x, -0.999), logCdfPlus, tf.where(tf.greater(x, 0.999), logOneMinusCdfMin, logCdfDelta));
  });
}

/** Converts a negative log-likelihood in nats for an image of `dims` values (H·W·C) into bits/dim. */
export function bitsPerDim(nllNats: number, dims: number): number {
  if (!Number.isInteger(dims) || dims < 1) throw new RangeError(`dims must be a positive integer, got ${dims}`);
  return nllNats / (dims * Math.LN2);
}
