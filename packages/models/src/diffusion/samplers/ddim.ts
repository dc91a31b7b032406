import * as tf from '@tensorflow/tfjs';
import { runReverseLoop } from './loop.ts';
import { runDenoiser, toX0AndEps, validateSampleOptions } from './predict.ts';
import { spacedTimesteps } from './timesteps.ts';
import type { SampleOptions } from './types.ts';

export interface DdimSampleOptions extends SampleOptions {
  /** Number of denoising steps (timesteps chosen by `spacing`). */
  steps: number;
  /** 0 = deterministic DDIM, 1 = DDPM-like stochasticity (Song et al., eq. 16). Default 0. */
  eta?: number;
}

/**
 * DDIM (Song et al. 2021): x_{t'} = √ᾱ_{t'}·x̂0 + √(1−ᾱ_{t'}−σ²)·ε̂ + σ·z, with
 * σ = η·√((1−ᾱ_{t'})/(1−ᾱ_t))·√(1−ᾱ_t/ᾱ_{t'}). Learned-variance channels are ignored.
 * Returns images in [-1, 1].
 */
export async function ddimSample(opts: DdimSampleOptions): Promise<tf.Tensor4D> {
  validateSampleOptions(opts);
  const eta = opts.eta ?? 0;
  if (!Number.isFinite(eta) || eta < 0) throw new RangeError(`eta must be a number ≥ 0, got ${eta}`);
  const timesteps = spacedTimesteps(opts.schedule.T, opts.steps, opts.spacing);
  const ab = opts.schedule.alphasCumprod;
  const clipX0 = opts.clipX0 ?? true;
  // DDIM needs only the prediction; a learned-variance model's extra channels are dropped.
  const modelOpts = { ...opts, variance: 'fixedSmall' as const };

  return runReverseLoop(opts, timesteps.length, (x, i, noise) => {
    const t = timesteps[i]!;
    const abT = ab[t]!;
    const abPrev = i > 0 ? ab[timesteps[i - 1]!]! : 1;
    const { prediction } = runDenoiser(modelOpts, x, t);
    const { x0, eps } = toX0AndEps(opts.prediction, prediction, x, abT, clipX0);
    const sigma = eta * Math.sqrt((1 - abPrev) / (1 - abT)) * Math.sqrt(1 - abT / abPrev);
    const direction = Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma));
    let next = tf.add(tf.mul(x0, Math.sqrt(abPrev)), tf.mul(eps, direction));
    if (sigma > 0) next = tf.add(next, tf.mul(noise(), sigma));
    return next as tf.Tensor4D;
  });
}
