import * as tf from '@tensorflow/tfjs';
import type { Prediction, SampleOptions } from './types.ts';

/** Checks the options shared by both samplers; throws naming the field and the limit. */
export function validateSampleOptions(opts: SampleOptions): void {
  const n = opts.shape[0];
  if (opts.shape.length !== 4 || !opts.shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RangeError(
      `shape must be [n, height, width, channels] of positive integers, got [${opts.shape.join(', ')}]`,
    );
  }
  if (!['eps', 'v', 'x0'].includes(opts.prediction)) {
    throw new RangeError(`prediction must be 'eps', 'v' or 'x0', got ${String(opts.prediction)}`);
  }
  if (opts.labels !== undefined) {
    if (opts.labels.rank !== 1 || opts.labels.shape[0] !== n) {
      throw new RangeError(
        `labels must be a [${n}] tensor (one per image), got shape [${opts.labels.shape.join(', ')}]`,
      );
    }
    if (opts.labels.dtype !== 'int32') throw new RangeError(`labels must be int32, got ${opts.labels.dtype}`);
  }
  if (opts.guidanceScale !== undefined) {
    if (!Number.isFinite(opts.guidanceScale))
      throw new RangeError(`guidanceScale must be a finite number, got ${opts.guidanceScale}`);
    if (opts.labels === undefined)
      throw new RangeError('guidanceScale needs labels (classifier-free guidance is for conditional models)');
    if (opts.nullLabel === undefined || !Number.isInteger(opts.nullLabel) || opts.nullLabel < 0) {
      throw new RangeError(
        `guidanceScale needs nullLabel, the integer label used for "no class", got ${opts.nullLabel}`,
      );
    }
  }
}

/**
 * Runs the model at timestep t for the whole batch, with classifier-free guidance when asked:
 * conditional and unconditional inputs go through as one 2N batch and the first C channels are
 * combined as u + s·(c − u). Variance channels come from the conditional half (as in GLIDE).
 * Call inside tf.tidy.
 */
export function runDenoiser(
  opts: SampleOptions,
  x: tf.Tensor4D,
  t: number,
): { prediction: tf.Tensor4D; varianceValue: tf.Tensor4D | null } {
  const n = x.shape[0];
  const channels = x.shape[3];
  let out: tf.Tensor4D;
  if (opts.guidanceScale === undefined) {
    out = opts.denoiser(x, tf.fill([n], t, 'int32') as tf.Tensor1D, opts.labels);
  } else {
    const labels = opts.labels!;
    const both = opts.denoiser(
      tf.concat([x, x], 0),
      tf.fill([2 * n], t, 'int32') as tf.Tensor1D,
      tf.concat([labels, tf.fill([n], opts.nullLabel!, 'int32') as tf.Tensor1D], 0),
    );
    const [cond, uncond] = tf.split(both, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
    const condPred = cond.slice([0, 0, 0, 0], [-1, -1, -1, channels]);
    const uncondPred = uncond.slice([0, 0, 0, 0], [-1, -1, -1, channels]);
    const guided = tf.add(uncondPred, tf.mul(tf.sub(condPred, uncondPred), opts.guidanceScale));
    out = (
      both.shape[3] === 2 * channels
        ? tf.concat([guided, cond.slice([0, 0, 0, channels], [-1, -1, -1, channels])], 3)
        : guided
    ) as tf.Tensor4D;
  }
  const outChannels = out.shape[3];
  if (out.shape[0] !== n || out.shape[1] !== x.shape[1] || out.shape[2] !== x.shape[2]) {
    throw new Error(`denoiser returned shape [${out.shape.join(', ')}] for input [${x.shape.join(', ')}]`);
  }
  if (outChannels === channels) {
    if (opts.variance === 'learned') {
      throw new Error(
        `variance 'learned' needs a denoiser with ${2 * channels} output channels, it returned ${outChannels}`,
      );
    }
    return { prediction: out, varianceValue: null };
  }
  if (outChannels === 2 * channels) {
    return {
      prediction: out.slice([0, 0, 0, 0], [-1, -1, -1, channels]),
      varianceValue: out.slice([0, 0, 0, channels], [-1, -1, -1, channels]),
    };
  }
  throw new Error(
    `denoiser returned ${outChannels} channels; expected ${channels} or ${2 * channels} (learned variance)`,
  );
}

/**
 * Turns the model's prediction at a timestep with cumulative ᾱ into (x0, ε). When x0 is clipped, ε is
 * recomputed from the clipped x0 so the DDIM update stays consistent. Call inside tf.tidy.
 */
export function toX0AndEps(
  prediction: Prediction,
  modelOut: tf.Tensor4D,
  x: tf.Tensor4D,
  alphaCumprod: number,
  clipX0: boolean,
): { x0: tf.Tensor4D; eps: tf.Tensor4D } {
  const sqrtAb = Math.sqrt(alphaCumprod);
  const sqrtOneMinusAb = Math.sqrt(1 - alphaCumprod);
  let x0: tf.Tensor4D;
  let eps: tf.Tensor4D | null = null;
  if (prediction === 'eps') {
    eps = modelOut;
    x0 = tf.div(tf.sub(x, tf.mul(modelOut, sqrtOneMinusAb)), sqrtAb) as tf.Tensor4D;
  } else if (prediction === 'v') {
    x0 = tf.sub(tf.mul(x, sqrtAb), tf.mul(modelOut, sqrtOneMinusAb)) as tf.Tensor4D;
    eps = tf.add(tf.mul(x, sqrtOneMinusAb), tf.mul(modelOut, sqrtAb)) as tf.Tensor4D;
  } else {
    x0 = modelOut;
  }
  if (clipX0) {
    x0 = tf.clipByValue(x0, -1, 1);
    eps = null;
  }
  eps ??= tf.div(tf.sub(x, tf.mul(x0, sqrtAb)), sqrtOneMinusAb) as tf.Tensor4D;
  return { x0, eps };
}
