import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.ts';
import { runDenoiser, toX0AndEps } from '../diffusion/samplers/predict.ts';
import type { Denoiser, Prediction, VarianceKind } from '../diffusion/samplers/types.ts';
import { throwIfAborted, yieldToEventLoop } from '../diffusion/samplers/yield.ts';
import type { NoiseSchedule } from '../diffusion/schedule.ts';
import { bitsPerDim, discretizedGaussianLogLikelihood, normalKl } from './likelihood.ts';

export interface VariationalBoundOptions {
  denoiser: Denoiser;
  schedule: NoiseSchedule;
  prediction: Prediction;
  /** Reverse-process variance the model samples with; default 'fixedSmall'. */
  variance?: VarianceKind;
  /** Data in [-1, 1] (8-bit images rescaled), [n, h, w, c]. */
  x0: tf.Tensor4D;
  labels?: tf.Tensor1D;
  /** Seed of the noise used to draw x_t at every timestep. */
  seed: number;
  /** Clip x̂0 to [-1, 1] (Improved DDPM's calc_bpd_loop default); default true. */
  clipX0?: boolean;
  onProgress?: (step: number, total: number) => void;
  signal?: AbortSignal;
}

export interface VariationalBound {
  /** Negative VLB per image in nats: prior KL + Σ_{t>0} KL_t + decoder NLL. */
  nats: Float64Array;
  /** The same per image in bits/dim. */
  bitsPerDim: Float64Array;
  /** Mean over images, bits/dim. */
  meanBitsPerDim: number;
  /** KL(q(x_T|x0) || N(0, I)) per image, bits/dim. */
  priorBitsPerDim: Float64Array;
  /** Mean over images of each term L_t in bits/dim (t = 0 is the decoder NLL), length T. */
  termsBitsPerDim: Float64Array;
}

/**
 * The full variational bound on −log p(x0) (Ho et al. eq. 5; Improved DDPM calc_bpd_loop): one model
 * call per timestep t = T−1 … 0 on x_t ~ q(x_t|x0). T calls per batch: an evaluation, not a loss.
 */
export async function variationalBound(opts: VariationalBoundOptions): Promise<VariationalBound> {
  const { schedule, x0 } = opts;
  const [n, h, w, c] = x0.shape;
  const dims = h * w * c;
  const T = schedule.T;
  const variance = opts.variance ?? 'fixedSmall';
  const clipX0 = opts.clipX0 ?? true;
  const rng = new Rng(opts.seed);
  const sampleOpts = {
    denoiser: opts.denoiser,
    schedule,
    prediction: opts.prediction,
    variance,
    shape: x0.shape,
    seed: opts.seed,
    labels: opts.labels,
  };
  const nats = new Float64Array(n);
  const termsBitsPerDim = new Float64Array(T);
  const perImage = (t: tf.Tensor) => tf.sum(t.reshape([n, -1]), 1);

  for (let t = T - 1; t >= 0; t--) {
    throwIfAborted(opts.signal);
    const term = tf.tidy(() => {
      const ab = schedule.alphasCumprod[t]!;
      const noise = rng.normal(x0.shape);
      const xt = tf.add(tf.mul(x0, Math.sqrt(ab)), tf.mul(noise, Math.sqrt(1 - ab))) as tf.Tensor4D;
      const { prediction, varianceValue } = runDenoiser(sampleOpts, xt, t);
      const { x0: x0Hat } = toX0AndEps(opts.prediction, prediction, xt, ab, clipX0);
      const c1 = schedule.posteriorMeanCoef1[t]!;
      const c2 = schedule.posteriorMeanCoef2[t]!;
      const modelMean = tf.add(tf.mul(x0Hat, c1), tf.mul(xt, c2));
      const minLog = schedule.posteriorLogVarianceClipped[t]!;
      // fixedLarge uses β̃_1 at t = 0 (β_0 would make the decoder needlessly sharp), as Improved DDPM does.
      const maxLog =
        t === 0
          ? Math.log(schedule.posteriorVariance[Math.min(1, T - 1)] || schedule.betas[0]!)
          : Math.log(schedule.betas[t]!);
      let modelLogVar: tf.Tensor;
      if (variance === 'fixedSmall') modelLogVar = tf.fill(x0.shape, minLog);
      else if (variance === 'fixedLarge') modelLogVar = tf.fill(x0.shape, maxLog);
      else {
        const frac = tf.div(tf.add(varianceValue!, 1), 2);
        modelLogVar = tf.add(tf.mul(frac, Math.log(schedule.betas[t]!)), tf.mul(tf.sub(1, frac), minLog));
      }
      if (t === 0) return perImage(tf.neg(discretizedGaussianLogLikelihood(x0, modelMean, tf.mul(modelLogVar, 0.5))));
      const trueMean = tf.add(tf.mul(x0, c1), tf.mul(xt, c2));
      return perImage(normalKl(trueMean, minLog, modelMean, modelLogVar));
    });
    const values = await term.data();
    term.dispose();
    let sum = 0;
    for (let i = 0; i < n; i++) {
      nats[i]! += values[i]!;
      sum += values[i]!;
    }
    termsBitsPerDim[t] = bitsPerDim(sum / n, dims);
    opts.onProgress?.(T - t, T);
    await yieldToEventLoop();
  }

  const prior = tf.tidy(() => {
    const abT = schedule.alphasCumprod[T - 1]!;
    return perImage(normalKl(tf.mul(x0, Math.sqrt(abT)), Math.log(1 - abT), 0, 0));
  });
  const priorNats = await prior.data();
  prior.dispose();
  const priorBitsPerDim = new Float64Array(n);
  const bpd = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    nats[i]! += priorNats[i]!;
    priorBitsPerDim[i] = bitsPerDim(priorNats[i]!, dims);
    bpd[i] = bitsPerDim(nats[i]!, dims);
    mean += bpd[i]! / n;
  }
  return { nats, bitsPerDim: bpd, meanBitsPerDim: mean, priorBitsPerDim, termsBitsPerDim };
}
