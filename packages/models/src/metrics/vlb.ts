import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.ts';
import { runDenoiser, toX0AndEps } from '../diffusion/samplers/predict.ts';
import type { Denoiser, Prediction, SampleOptions, VarianceKind } from '../diffusion/samplers/types.ts';
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
  for (let t = T - 1; t >= 0; t--) {
    throwIfAborted(opts.signal);
    const term = tf.tidy(() => boundTermNats(sampleOpts, variance, clipX0, x0, t, rng.normal(x0.shape)));
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

  const prior = tf.tidy(() => priorNatsOf(schedule, x0));
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

export interface BoundEstimateOptions extends Omit<VariationalBoundOptions, 'onProgress'> {
  /**
   * KL terms evaluated (t = 1 … T−1, one per stratum). At T−1 or more every term is evaluated and the result is
   * the full bound of variationalBound.
   */
  timesteps: number;
  /** Images per model call (default 32). */
  batchSize?: number;
}

export interface BoundEstimate {
  /** Per image, bits/dim. */
  bitsPerDim: Float64Array;
  meanBitsPerDim: number;
  /** The KL terms' timesteps this estimate evaluated. */
  timesteps: number[];
}

/**
 * An unbiased estimate of variationalBound's bits/dim at timesteps + 1 model calls per image instead of T: what a
 * DDPM run reports on its held-out split every few hundred steps, where T calls would cost as much as hundreds of
 * training steps. The prior KL and the decoder NLL L_0 are exact; Σ_{t=1}^{T−1} L_t is estimated by stratified
 * sampling — t = 1 … T−1 cut into `timesteps` strata, one t drawn uniformly in each, its L_t weighted by its
 * stratum's size — which is unbiased (each stratum's term is its size × the mean of its L_t). The strata grow
 * geometrically (1, 2–5, 6–12, 13–31, … for T = 1000 and 8 strata): L_t falls by orders of magnitude over the first timesteps, so
 * small t get strata of their own and the estimate varies far less than with equal strata or t drawn uniformly. Timesteps and noise come from the
 * seed, so a run that passes the same seed every time scores its checkpoints on the same draw.
 */
export async function estimateVariationalBound(opts: BoundEstimateOptions): Promise<BoundEstimate> {
  const { schedule, x0 } = opts;
  const [n, h, w, c] = x0.shape;
  const dims = h * w * c;
  const T = schedule.T;
  if (!Number.isInteger(opts.timesteps) || opts.timesteps < 1)
    throw new RangeError(`timesteps must be an integer ≥ 1, got ${opts.timesteps}`);
  const k = Math.min(opts.timesteps, T - 1);
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  if (opts.labels && opts.labels.shape[0] !== n)
    throw new RangeError(`labels must have ${n} entries, got ${opts.labels.shape[0]}`);
  const variance = opts.variance ?? 'fixedSmall';
  const clipX0 = opts.clipX0 ?? true;
  const rng = new Rng(opts.seed);

  // (t, weight): t = 0 exactly once, then one t per stratum of 1 … T−1 weighted by the stratum's size.
  const terms: { t: number; weight: number }[] = [{ t: 0, weight: 1 }];
  const edges = strataEdges(T, k);
  for (let j = 0; j < k; j++) {
    const lo = edges[j]!;
    const hi = edges[j + 1]!;
    terms.push({ t: lo + Math.floor(rng.uniformArray(1)[0]! * (hi - lo)), weight: hi - lo });
  }

  const nats = new Float64Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const m = Math.min(batchSize, n - start);
    const x = x0.slice([start, 0, 0, 0], [m, -1, -1, -1]) as tf.Tensor4D;
    const labels = opts.labels?.slice([start], [m]);
    try {
      const sampleOpts: SampleOptions = {
        denoiser: opts.denoiser,
        schedule,
        prediction: opts.prediction,
        variance,
        shape: x.shape,
        seed: opts.seed,
        ...(labels ? { labels } : {}),
      };
      for (const { t, weight } of terms) {
        throwIfAborted(opts.signal);
        const term = tf.tidy(() =>
          tf.mul(boundTermNats(sampleOpts, variance, clipX0, x, t, rng.normal(x.shape)), weight),
        );
        const values = await term.data();
        term.dispose();
        for (let i = 0; i < m; i++) nats[start + i]! += values[i]!;
        await yieldToEventLoop();
      }
      const prior = tf.tidy(() => priorNatsOf(schedule, x));
      const values = await prior.data();
      prior.dispose();
      for (let i = 0; i < m; i++) nats[start + i]! += values[i]!;
    } finally {
      x.dispose();
      labels?.dispose();
    }
  }
  const bpd = nats.map((v) => bitsPerDim(v, dims));
  let mean = 0;
  for (const v of bpd) mean += v / n;
  return { bitsPerDim: bpd, meanBitsPerDim: mean, timesteps: terms.slice(1).map((x) => x.t) };
}

/**
 * k + 1 increasing edges from 1 to T: stratum j is [edges[j], edges[j+1]). Geometric (edge j ≈ T^(j/k)), each
 * stratum at least one timestep wide; k = T − 1 gives one stratum per timestep.
 */
export function strataEdges(T: number, k: number): number[] {
  const edges = [1];
  for (let j = 1; j < k; j++) {
    const geometric = Math.round(Math.pow(T, j / k));
    edges.push(Math.min(Math.max(edges[j - 1]! + 1, geometric), T - (k - j)));
  }
  edges.push(T);
  return edges;
}

/** Per-image sum over pixels of a [n, …] tensor. */
const perImage = (t: tf.Tensor) => tf.sum(t.reshape([t.shape[0], -1]), 1) as tf.Tensor1D;

/** KL(q(x_T|x0) || N(0, I)) per image, in nats. Call inside tf.tidy. */
function priorNatsOf(schedule: NoiseSchedule, x0: tf.Tensor4D): tf.Tensor1D {
  const abT = schedule.alphasCumprod[schedule.T - 1]!;
  return perImage(normalKl(tf.mul(x0, Math.sqrt(abT)), Math.log(1 - abT), 0, 0));
}

/**
 * One term of the bound per image in nats, on x_t drawn from x0 with `noise`: the decoder NLL −log p(x0|x1) at
 * t = 0, else KL(q(x_{t−1}|x_t, x0) || p(x_{t−1}|x_t)). Call inside tf.tidy.
 */
function boundTermNats(
  sampleOpts: SampleOptions,
  variance: VarianceKind,
  clipX0: boolean,
  x0: tf.Tensor4D,
  t: number,
  noise: tf.Tensor,
): tf.Tensor1D {
  const { schedule } = sampleOpts;
  const T = schedule.T;
  const ab = schedule.alphasCumprod[t]!;
  const xt = tf.add(tf.mul(x0, Math.sqrt(ab)), tf.mul(noise, Math.sqrt(1 - ab))) as tf.Tensor4D;
  const { prediction, varianceValue } = runDenoiser(sampleOpts, xt, t);
  const { x0: x0Hat } = toX0AndEps(sampleOpts.prediction, prediction, xt, ab, clipX0);
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
}
