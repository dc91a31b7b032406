import * as tf from '@tensorflow/tfjs';
import { webgpuDiffusionKernelsAvailable, webgpuQSample } from '../nn/webgpu/diffusion-loss.ts';
import { webgpuKernelsActive } from '../nn/webgpu/enabled.ts';

/**
 * Noise schedules for DDPM-style diffusion. Every table is computed in float64 (JS numbers) because
 * ᾱ_t near t = T is tiny and posterior coefficients divide by (1 - ᾱ_t); tensors are made in float32
 * only at the point of use.
 */
export type ScheduleKind = 'linear' | 'cosine';

export interface NoiseSchedule {
  kind: ScheduleKind;
  T: number;
  betas: Float64Array;
  alphas: Float64Array;
  alphasCumprod: Float64Array;
  alphasCumprodPrev: Float64Array;
  sqrtAlphasCumprod: Float64Array;
  sqrtOneMinusAlphasCumprod: Float64Array;
  /** β̃_t = β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t); zero at t = 0. */
  posteriorVariance: Float64Array;
  /** log β̃_t with the t = 0 entry replaced by β̃_1 (as in Improved DDPM) so it is finite. */
  posteriorLogVarianceClipped: Float64Array;
  /** Coefficient of x0 in the posterior mean μ̃_t(x_t, x0). */
  posteriorMeanCoef1: Float64Array;
  /** Coefficient of x_t in the posterior mean μ̃_t(x_t, x0). */
  posteriorMeanCoef2: Float64Array;
  /** Signal-to-noise ratio ᾱ_t / (1 - ᾱ_t) at integer timestep t (0-based). */
  snr(t: number): number;
}

export interface ScheduleOptions {
  kind: ScheduleKind;
  /** Number of diffusion steps; default 1000. */
  T?: number;
}

const MAX_BETA = 0.999;
const COSINE_S = 0.008;

/** DDPM linear betas, scaled so that T ≠ 1000 keeps the same overall noise level (as in Improved DDPM). */
function linearBetas(T: number): Float64Array {
  const scale = 1000 / T;
  const start = scale * 1e-4;
  const end = scale * 0.02;
  const betas = new Float64Array(T);
  for (let i = 0; i < T; i++) betas[i] = T === 1 ? start : start + ((end - start) * i) / (T - 1);
  return betas;
}

/** Nichol & Dhariwal cosine schedule: ᾱ(t) = cos²(((t/T)+s)/(1+s)·π/2), β_t = 1 - ᾱ(t+1)/ᾱ(t) ≤ 0.999. */
function cosineBetas(T: number): Float64Array {
  const f = (t: number) => Math.cos(((t / T + COSINE_S) / (1 + COSINE_S)) * Math.PI * 0.5) ** 2;
  const betas = new Float64Array(T);
  for (let i = 0; i < T; i++) betas[i] = Math.min(1 - f(i + 1) / f(i), MAX_BETA);
  return betas;
}

export function makeSchedule(opts: ScheduleOptions): NoiseSchedule {
  const T = opts.T ?? 1000;
  if (!Number.isInteger(T) || T < 1 || T > 100_000) {
    throw new RangeError(`schedule.T must be an integer in [1, 100000], got ${T}`);
  }
  let betas: Float64Array;
  if (opts.kind === 'linear') betas = linearBetas(T);
  else if (opts.kind === 'cosine') betas = cosineBetas(T);
  else throw new RangeError(`schedule.kind must be 'linear' or 'cosine', got ${String(opts.kind)}`);

  const alphas = new Float64Array(T);
  const alphasCumprod = new Float64Array(T);
  const alphasCumprodPrev = new Float64Array(T);
  const sqrtAlphasCumprod = new Float64Array(T);
  const sqrtOneMinusAlphasCumprod = new Float64Array(T);
  const posteriorVariance = new Float64Array(T);
  const posteriorLogVarianceClipped = new Float64Array(T);
  const posteriorMeanCoef1 = new Float64Array(T);
  const posteriorMeanCoef2 = new Float64Array(T);

  let prod = 1;
  for (let i = 0; i < T; i++) {
    const beta = betas[i]!;
    alphas[i] = 1 - beta;
    alphasCumprodPrev[i] = prod;
    prod *= 1 - beta;
    alphasCumprod[i] = prod;
    sqrtAlphasCumprod[i] = Math.sqrt(prod);
    sqrtOneMinusAlphasCumprod[i] = Math.sqrt(1 - prod);
    const prev = alphasCumprodPrev[i]!;
    posteriorVariance[i] = (beta * (1 - prev)) / (1 - prod);
    posteriorMeanCoef1[i] = (beta * Math.sqrt(prev)) / (1 - prod);
    posteriorMeanCoef2[i] = ((1 - prev) * Math.sqrt(1 - beta)) / (1 - prod);
  }
  for (let i = 0; i < T; i++) {
    // β̃_0 = 0; use β̃_1 there so the log stays finite (T = 1 falls back to β_0).
    const v = i === 0 ? (T > 1 ? posteriorVariance[1]! : betas[0]!) : posteriorVariance[i]!;
    posteriorLogVarianceClipped[i] = Math.log(v);
  }

  return {
    kind: opts.kind,
    T,
    betas,
    alphas,
    alphasCumprod,
    alphasCumprodPrev,
    sqrtAlphasCumprod,
    sqrtOneMinusAlphasCumprod,
    posteriorVariance,
    posteriorLogVarianceClipped,
    posteriorMeanCoef1,
    posteriorMeanCoef2,
    snr(t: number): number {
      if (!Number.isInteger(t) || t < 0 || t >= T)
        throw new RangeError(`snr: t must be an integer in [0, ${T - 1}], got ${t}`);
      const a = alphasCumprod[t]!;
      return a / (1 - a);
    },
  };
}

/**
 * Gathers table[t_i] for each sample as a float32 [B,1,1,1] tensor, ready to broadcast over images.
 * `t` is an int32 [B] tensor of 0-based timesteps.
 */
export function gatherCoef(table: Float64Array, t: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const values = tf.tensor1d(Float32Array.from(table), 'float32');
    return tf.gather(values, tf.cast(t, 'int32')).reshape([t.shape[0], 1, 1, 1]) as tf.Tensor4D;
  });
}

/** Same as gatherCoef but from a plain array of timesteps (sampler loops, where t is known on the host). */
export function coefFromSteps(table: Float64Array, steps: readonly number[]): tf.Tensor4D {
  const out = new Float32Array(steps.length);
  steps.forEach((s, i) => {
    const v = table[s];
    if (v === undefined) throw new RangeError(`timestep ${s} is outside the schedule (T = ${table.length})`);
    out[i] = v;
  });
  return tf.tensor4d(out, [steps.length, 1, 1, 1]);
}

/** Forward process q(x_t | x_0): √ᾱ_t·x0 + √(1-ᾱ_t)·ε. */
export function qSample(schedule: NoiseSchedule, x0: tf.Tensor4D, t: tf.Tensor1D, noise: tf.Tensor4D): tf.Tensor4D {
  // webgpu: one kernel with the coefficient tables kept on the GPU (nn/webgpu/diffusion-loss.ts).
  if (webgpuKernelsActive() && webgpuDiffusionKernelsAvailable())
    return webgpuQSample(schedule.sqrtAlphasCumprod, schedule.sqrtOneMinusAlphasCumprod, x0, t, noise);
  return tf.tidy(() => {
    const a = gatherCoef(schedule.sqrtAlphasCumprod, t);
    const s = gatherCoef(schedule.sqrtOneMinusAlphasCumprod, t);
    return tf.add(tf.mul(a, x0), tf.mul(s, noise)) as tf.Tensor4D;
  });
}

/** Posterior q(x_{t-1} | x_t, x0): mean and clipped log-variance as [B,...] / [B,1,1,1] tensors. */
export function qPosterior(
  schedule: NoiseSchedule,
  x0: tf.Tensor4D,
  xt: tf.Tensor4D,
  t: tf.Tensor1D,
): { mean: tf.Tensor4D; variance: tf.Tensor4D; logVariance: tf.Tensor4D } {
  return tf.tidy(() => {
    const c1 = gatherCoef(schedule.posteriorMeanCoef1, t);
    const c2 = gatherCoef(schedule.posteriorMeanCoef2, t);
    return {
      mean: tf.add(tf.mul(c1, x0), tf.mul(c2, xt)) as tf.Tensor4D,
      variance: gatherCoef(schedule.posteriorVariance, t),
      logVariance: gatherCoef(schedule.posteriorLogVarianceClipped, t),
    };
  });
}
