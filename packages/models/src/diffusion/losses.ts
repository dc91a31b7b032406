import * as tf from '@tensorflow/tfjs';
import { customOp } from '../nn/custom-op.ts';
import { discretizedGaussianLogLikelihood as logScaleLogLikelihood, normalKl } from '../metrics/likelihood.ts';
import type { Prediction } from './samplers/types.ts';
import { gatherCoef, type NoiseSchedule } from './schedule.ts';
import { webgpuDiffusionKernelsAvailable, webgpuMse } from '../nn/webgpu/diffusion-loss.ts';
import { webgpuKernelsActive } from '../nn/webgpu/enabled.ts';

/**
 * Training objectives. `simple`: MSE between the model's first C channels and the target of the chosen
 * prediction type (L_simple, Ho et al.). `hybrid`: L_simple + λ·L_vlb with a learned variance
 * (Nichol & Dhariwal, Improved DDPM): the vlb term trains only the variance channels, the mean is
 * stop-gradiented inside it.
 */
export type LossKind = 'simple' | 'hybrid';

export interface LossConfig {
  kind: LossKind;
  prediction: Prediction;
  /** λ of the hybrid loss (default 0.001, as in Improved DDPM). The vlb estimate is T·L_t, so λ·T·L_t is added. */
  vlbWeight?: number;
}

export interface LossTerms {
  /** Mean over the batch: what is differentiated. */
  loss: tf.Scalar;
  /** Per-sample total loss [B] (for per-timestep reporting). */
  perSample: tf.Tensor1D;
  /** Per-sample L_simple [B]. */
  mse: tf.Tensor1D;
  /** Per-sample vlb term L_t in bits/dim [B] (hybrid only). */
  vlb?: tf.Tensor1D;
}

/** Identity whose gradient is zero (TF.js has no stop_gradient op). */
export const stopGradient = customOp<tf.Tensor>(([x]) => ({
  value: tf.clone(x!),
  gradFunc: (dy) => [tf.zerosLike(dy)],
}));

function coefs(schedule: NoiseSchedule, t: tf.Tensor1D) {
  return { a: gatherCoef(schedule.sqrtAlphasCumprod, t), s: gatherCoef(schedule.sqrtOneMinusAlphasCumprod, t) };
}

/** The regression target of each prediction type: ε, v = √ᾱ·ε − √(1−ᾱ)·x0, or x0. */
export function predictionTarget(
  prediction: Prediction,
  schedule: NoiseSchedule,
  x0: tf.Tensor4D,
  noise: tf.Tensor4D,
  t: tf.Tensor1D,
): tf.Tensor4D {
  if (prediction === 'eps') return noise;
  if (prediction === 'x0') return x0;
  if (prediction === 'v') {
    return tf.tidy(() => {
      const { a, s } = coefs(schedule, t);
      return tf.sub(tf.mul(a, noise), tf.mul(s, x0)) as tf.Tensor4D;
    });
  }
  throw new RangeError(`prediction must be 'eps', 'v' or 'x0', got ${String(prediction)}`);
}

/** Reads the network output `out` at x_t and per-sample timesteps t as another quantity. */
export type PredictionConversion = (
  prediction: Prediction,
  schedule: NoiseSchedule,
  out: tf.Tensor4D,
  xt: tf.Tensor4D,
  t: tf.Tensor1D,
) => tf.Tensor4D;

/** The formula of each prediction type in a = √ᾱ_t and s = √(1−ᾱ_t), evaluated in one tidy. */
function byPrediction(
  prediction: Prediction,
  schedule: NoiseSchedule,
  t: tf.Tensor1D,
  formulas: Record<Prediction, (a: tf.Tensor, s: tf.Tensor) => tf.Tensor>,
): tf.Tensor4D {
  return tf.tidy(() => {
    const { a, s } = coefs(schedule, t);
    if (!Object.hasOwn(formulas, prediction))
      throw new RangeError(`prediction must be 'eps', 'v' or 'x0', got ${String(prediction)}`);
    return formulas[prediction](a, s) as tf.Tensor4D;
  });
}

/** ε implied by a prediction at per-sample timesteps t (x_t = √ᾱ·x0 + √(1−ᾱ)·ε). */
export const predictionToEps: PredictionConversion = (prediction, schedule, out, xt, t) =>
  byPrediction(prediction, schedule, t, {
    eps: () => tf.clone(out),
    v: (a, s) => tf.add(tf.mul(s, xt), tf.mul(a, out)),
    x0: (a, s) => tf.div(tf.sub(xt, tf.mul(a, out)), s),
  });

/** x0 implied by a prediction at per-sample timesteps t. */
export const predictionToX0: PredictionConversion = (prediction, schedule, out, xt, t) =>
  byPrediction(prediction, schedule, t, {
    eps: (a, s) => tf.div(tf.sub(xt, tf.mul(s, out)), a),
    v: (a, s) => tf.sub(tf.mul(a, xt), tf.mul(s, out)),
    x0: () => tf.clone(out),
  });

/** Mean over all but the batch axis: [B,...] → [B]. */
export function meanFlat(x: tf.Tensor): tf.Tensor1D {
  return tf.mean(x.reshape([x.shape[0], -1]), 1) as tf.Tensor1D;
}

/**
 * log-likelihood of x0 ∈ [-1,1] discretised to 256 bins under N(mean, e^logVar), elementwise in nats: the
 * log-variance form of metrics/likelihood.ts's (which takes log σ).
 */
export function discretizedGaussianLogLikelihood(x: tf.Tensor, mean: tf.Tensor, logVar: tf.Tensor): tf.Tensor {
  return tf.tidy(() => logScaleLogLikelihood(x, mean, tf.mul(logVar, 0.5)));
}

/**
 * The vlb term L_t per sample in bits/dim: KL(q(x_{t−1}|x_t,x0) ‖ p(x_{t−1}|x_t)) for t > 0 and the
 * discretised decoder NLL −log p(x0|x1) for t = 0. `modelOut` has 2C channels: the prediction and
 * the variance interpolation v ∈ [-1,1]: log σ² = ((v+1)/2)·log β_t + (1 − (v+1)/2)·log β̃_t.
 * Pass a stop-gradiented prediction to train only the variance (hybrid loss).
 */
export function vlbTerm(
  prediction: Prediction,
  schedule: NoiseSchedule,
  modelOut: tf.Tensor4D,
  x0: tf.Tensor4D,
  xt: tf.Tensor4D,
  t: tf.Tensor1D,
): tf.Tensor1D {
  const c = x0.shape[3];
  if (modelOut.shape[3] !== 2 * c)
    throw new RangeError(`vlbTerm needs a learned-variance output with ${2 * c} channels, got ${modelOut.shape[3]}`);
  return tf.tidy(() => {
    const pred = modelOut.slice([0, 0, 0, 0], [-1, -1, -1, c]) as tf.Tensor4D;
    const v = modelOut.slice([0, 0, 0, c], [-1, -1, -1, c]);
    const frac = tf.div(tf.add(v, 1), 2);
    const maxLog = gatherCoef(Float64Array.from(schedule.betas, Math.log), t);
    const minLog = gatherCoef(schedule.posteriorLogVarianceClipped, t);
    const modelLogVar = tf.add(tf.mul(frac, maxLog), tf.mul(tf.sub(1, frac), minLog));
    const x0Pred = tf.clipByValue(predictionToX0(prediction, schedule, pred, xt, t), -1, 1);
    const c1 = gatherCoef(schedule.posteriorMeanCoef1, t);
    const c2 = gatherCoef(schedule.posteriorMeanCoef2, t);
    const modelMean = tf.add(tf.mul(c1, x0Pred), tf.mul(c2, xt));
    const trueMean = tf.add(tf.mul(c1, x0), tf.mul(c2, xt));
    const kl = meanFlat(normalKl(trueMean, minLog, modelMean, modelLogVar)).div(Math.LN2);
    const nll = meanFlat(tf.neg(discretizedGaussianLogLikelihood(x0, modelMean, modelLogVar))).div(Math.LN2);
    return tf.where(tf.equal(tf.cast(t, 'int32'), 0), nll, kl) as tf.Tensor1D;
  });
}

/**
 * The training loss for one batch. `modelOut` is the UNet output on x_t (C or 2C channels),
 * `noise` the ε used to make x_t from x0.
 */
export function diffusionLoss(
  config: LossConfig,
  schedule: NoiseSchedule,
  modelOut: tf.Tensor4D,
  x0: tf.Tensor4D,
  xt: tf.Tensor4D,
  noise: tf.Tensor4D,
  t: tf.Tensor1D,
): LossTerms {
  const c = x0.shape[3];
  const learned = modelOut.shape[3] === 2 * c;
  if (config.kind === 'hybrid' && !learned) {
    throw new RangeError(
      `loss.kind 'hybrid' needs a model with learnSigma (${2 * c} output channels), got ${modelOut.shape[3]}`,
    );
  }
  if (config.kind !== 'simple' && config.kind !== 'hybrid')
    throw new RangeError(`loss.kind must be 'simple' or 'hybrid', got ${String(config.kind)}`);
  const pred = learned ? (modelOut.slice([0, 0, 0, 0], [-1, -1, -1, c]) as tf.Tensor4D) : modelOut;
  const target = predictionTarget(config.prediction, schedule, x0, noise, t);
  // webgpu: one kernel forward and one backward (nn/webgpu/diffusion-loss.ts).
  const mse =
    webgpuKernelsActive() && webgpuDiffusionKernelsAvailable()
      ? webgpuMse(pred, target)
      : meanFlat(tf.squaredDifference(pred, target));
  if (config.kind === 'simple') return { loss: tf.mean(mse) as tf.Scalar, perSample: mse, mse };
  const lambda = config.vlbWeight ?? 0.001;
  if (!(lambda >= 0)) throw new RangeError(`loss.vlbWeight must be ≥ 0, got ${lambda}`);
  const frozen = tf.concat([stopGradient(pred), modelOut.slice([0, 0, 0, c], [-1, -1, -1, c])], 3) as tf.Tensor4D;
  const vlb = vlbTerm(config.prediction, schedule, frozen, x0, xt, t);
  const perSample = tf.add(mse, tf.mul(vlb, lambda * schedule.T)) as tf.Tensor1D;
  return { loss: tf.mean(perSample) as tf.Scalar, perSample, mse, vlb };
}

/**
 * Mean loss per quartile of t ([0,T/4), [T/4,T/2), …); null for a quartile with no sample in the batch.
 * Host-side: call with the downloaded per-sample losses and timesteps.
 */
export function lossByQuartile(
  perSample: ArrayLike<number>,
  t: ArrayLike<number>,
  T: number,
): [number | null, number | null, number | null, number | null] {
  const sum = [0, 0, 0, 0];
  const count = [0, 0, 0, 0];
  for (let i = 0; i < perSample.length; i++) {
    const q = Math.min(3, Math.floor((4 * t[i]!) / T));
    sum[q]! += perSample[i]!;
    count[q]! += 1;
  }
  return sum.map((s, q) => (count[q] ? s / count[q] : null)) as [
    number | null,
    number | null,
    number | null,
    number | null,
  ];
}
