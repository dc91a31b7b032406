import * as tf from '@tensorflow/tfjs';
import { runReverseLoop } from './loop.ts';
import { runDenoiser, toX0AndEps, validateSampleOptions } from './predict.ts';
import { reverseTables, spacedTimesteps } from './timesteps.ts';
import type { SampleOptions } from './types.ts';

export interface DdpmSampleOptions extends SampleOptions {
  /**
   * Number of ancestral steps (default: the schedule's T). Fewer steps respace the schedule as in
   * Improved DDPM, which is how a learned-variance model samples well in 50–250 steps.
   */
  steps?: number;
}

/**
 * DDPM ancestral sampling: x_{t-1} ~ N(μ̃_t(x_t, x̂0), σ_t²) with σ_t² = β̃_t (fixedSmall), β_t
 * (fixedLarge) or exp(v·log β_t + (1−v)·log β̃_t), v = (out+1)/2 from the model (learned).
 * Returns images in [-1, 1].
 */
export async function ddpmSample(opts: DdpmSampleOptions): Promise<tf.Tensor4D> {
  validateSampleOptions(opts);
  const variance = opts.variance ?? 'fixedSmall';
  if (!['fixedSmall', 'fixedLarge', 'learned'].includes(variance)) {
    throw new RangeError(`variance must be 'fixedSmall', 'fixedLarge' or 'learned', got ${String(variance)}`);
  }
  const timesteps = spacedTimesteps(opts.schedule.T, opts.steps ?? opts.schedule.T, opts.spacing);
  const tables = reverseTables(opts.schedule, timesteps);
  const clipX0 = opts.clipX0 ?? true;

  return runReverseLoop({ ...opts, variance }, timesteps.length, (x, i, noise) => {
    const { prediction, varianceValue } = runDenoiser({ ...opts, variance }, x, timesteps[i]!);
    const { x0 } = toX0AndEps(opts.prediction, prediction, x, tables.alphasCumprod[i]!, clipX0);
    const mean = tf.add(tf.mul(x0, tables.posteriorMeanCoef1[i]!), tf.mul(x, tables.posteriorMeanCoef2[i]!));
    if (i === 0) return mean as tf.Tensor4D; // the last step adds no noise
    const minLog = tables.posteriorLogVarianceClipped[i]!;
    const maxLog = Math.log(tables.betas[i]!);
    let std: tf.Tensor | number;
    if (variance === 'fixedSmall') std = Math.exp(0.5 * minLog);
    else if (variance === 'fixedLarge') std = Math.exp(0.5 * maxLog);
    else {
      const frac = tf.div(tf.add(varianceValue!, 1), 2);
      const logVar = tf.add(tf.mul(frac, maxLog), tf.mul(tf.sub(1, frac), minLog));
      std = tf.exp(tf.mul(logVar, 0.5));
    }
    return tf.add(mean, tf.mul(noise(), std)) as tf.Tensor4D;
  });
}
