import * as tf from '@tensorflow/tfjs';
import { runReverseLoop } from './loop.ts';
import { runDenoiser, toX0AndEps, validateSampleOptions } from './predict.ts';
import { spacedTimesteps } from './timesteps.ts';
import type { SampleOptions } from './types.ts';

export interface DpmSolverSampleOptions extends SampleOptions {
  /** Number of model evaluations (timesteps chosen by `spacing`). */
  steps: number;
  /** 2 (default): DPM-Solver++(2M); 1: first order (DDIM with η = 0, or DDPM's ancestral step when stochastic). */
  order?: 1 | 2;
  /**
   * SDE-DPM-Solver++(2M) (Lu et al. 2022, section 5; diffusers' 'sde-dpmsolver++'): solves the reverse SDE instead
   * of the ODE, adding fresh noise each step. Its first-order step is exactly DDPM's ancestral step (posterior
   * mean, variance β̃), so like DDPM it keeps correcting a model's errors instead of carrying them to the end.
   */
  stochastic?: boolean;
}

/**
 * DPM-Solver++ visits 'trailing' timesteps unless told otherwise (as diffusers' DPMSolverMultistepScheduler
 * does): with 'linspace' the last interval (t ≈ T/n → 0) is a jump in λ several times the one before, and the
 * second-order extrapolation across it overshoots (measured on the exact mixture tests: worse than DDIM below
 * ~40 steps).
 */
export const DPM_SOLVER_DEFAULT_SPACING = 'trailing' as const;

/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", algorithm 2): a multistep second-order solver of the
 * diffusion ODE in its data-prediction form. With α = √ᾱ, σ = √(1−ᾱ), λ = log(α/σ) and h = λ_t − λ_s,
 *   x_t = (σ_t/σ_s)·x_s − α_t·(e^{−h} − 1)·D,
 * where D = x̂0_s for the first step and otherwise (1 + 1/(2r))·x̂0_s − 1/(2r)·x̂0_prev with r = h_prev/h
 * (the previous step's x̂0 and step size, so each step costs one model call). The last step goes to the
 * clean image (σ = 0, h = ∞) and is first order, so the result is the last x̂0 ("lower order final").
 * x̂0 is clipped to [-1, 1] when clipX0 (the thresholding the paper recommends for pixel models).
 * Stochastic (SDE) form: x_t = (σ_t/σ_s)·e^{−h}·x_s + α_t·(1 − e^{−2h})·D + σ_t·√(1 − e^{−2h})·z.
 * Learned-variance channels are ignored. Returns images in [-1, 1].
 */
export async function dpmSolverSample(opts: DpmSolverSampleOptions): Promise<tf.Tensor4D> {
  validateSampleOptions(opts);
  const order = opts.order ?? 2;
  if (order !== 1 && order !== 2) throw new RangeError(`order must be 1 or 2, got ${String(order)}`);
  const timesteps = spacedTimesteps(opts.schedule.T, opts.steps, opts.spacing ?? DPM_SOLVER_DEFAULT_SPACING);
  const ab = opts.schedule.alphasCumprod;
  const clipX0 = opts.clipX0 ?? true;
  const modelOpts = { ...opts, variance: 'fixedSmall' as const };
  const lambda = (abar: number) => 0.5 * Math.log(abar / (1 - abar));
  // The previous step's x̂0 and its h, kept across the loop's per-step tidy.
  let prevX0: tf.Tensor4D | null = null;
  let prevH = 0;
  try {
    return await runReverseLoop(opts, timesteps.length, (x, i, noise) => {
      const abS = ab[timesteps[i]!]!;
      const { prediction } = runDenoiser(modelOpts, x, timesteps[i]!);
      const { x0 } = toX0AndEps(opts.prediction, prediction, x, abS, clipX0);
      if (i === 0) return x0; // σ_t = 0: the first-order step to the clean image is x̂0 itself
      const abT = ab[timesteps[i - 1]!]!;
      const h = lambda(abT) - lambda(abS);
      let d: tf.Tensor4D = x0;
      if (order === 2 && prevX0 !== null) {
        const halfInvR = prevH > 0 ? h / (2 * prevH) : 0;
        d = tf.sub(tf.mul(x0, 1 + halfInvR), tf.mul(prevX0, halfInvR));
      }
      const ratio = Math.sqrt((1 - abT) / (1 - abS));
      let next: tf.Tensor4D;
      if (opts.stochastic) {
        const keep = -Math.expm1(-2 * h); // 1 − e^{−2h}
        next = tf.add(
          tf.add(tf.mul(x, ratio * Math.exp(-h)), tf.mul(d, Math.sqrt(abT) * keep)),
          tf.mul(noise(), Math.sqrt((1 - abT) * keep)),
        ) as tf.Tensor4D;
      } else {
        next = tf.add(tf.mul(x, ratio), tf.mul(d, Math.sqrt(abT) * -Math.expm1(-h))) as tf.Tensor4D;
      }
      if (order === 2) {
        prevX0?.dispose();
        prevX0 = tf.keep(x0);
        prevH = h;
      }
      return next;
    });
  } finally {
    (prevX0 as tf.Tensor4D | null)?.dispose();
  }
}
