import type * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from '../schedule.ts';
import type { TimestepSpacing } from './timesteps.ts';

/**
 * The network as the samplers see it: noisy images x_t [N,H,W,C], 0-based integer timesteps t
 * (int32 [N]) and optional int32 class labels [N]. It returns C channels (the prediction) or 2C when
 * it learns its variance: the first C are the prediction, the last C the interpolation value
 * v ∈ [-1, 1] between log β̃_t and log β_t (Improved DDPM, eq. 15).
 */
export type Denoiser = (x: tf.Tensor4D, t: tf.Tensor1D, labels?: tf.Tensor1D) => tf.Tensor4D;

/** What the first C output channels predict: the noise ε, the velocity v = √ᾱ·ε − √(1−ᾱ)·x0, or x0 itself. */
export type Prediction = 'eps' | 'v' | 'x0';

/** Reverse-process variance: β̃_t (fixedSmall), β_t (fixedLarge) or the model's interpolation (learned). */
export type VarianceKind = 'fixedSmall' | 'fixedLarge' | 'learned';

export interface SampleOptions {
  denoiser: Denoiser;
  schedule: NoiseSchedule;
  prediction: Prediction;
  /** Only used by ddpmSample; DDIM ignores the variance channels. Default 'fixedSmall'. */
  variance?: VarianceKind;
  /** Output shape [n, height, width, channels]. */
  shape: [number, number, number, number];
  /** Seed of the Rng that draws x_T and every step's noise: same seed, same images. */
  seed: number;
  /**
   * Index of the first image of this call within the request (default 0). Image k draws its noise from
   * its own stream fork(firstImageIndex + k), so splitting a request into batches (or across workers)
   * with the right offsets gives the same images as one big batch.
   */
  firstImageIndex?: number;
  /** int32 [n] class labels for a class-conditional model. */
  labels?: tf.Tensor1D;
  /**
   * Classifier-free guidance scale s: ε = ε_uncond + s·(ε_cond − ε_uncond), with the conditional and
   * unconditional halves run as one batch. Needs `labels` and `nullLabel`. Leave it undefined to run
   * the conditional model alone (same values as s = 1 at half the cost).
   */
  guidanceScale?: number;
  /** The label the model was trained with for "no class" (label dropout), usually numClasses. */
  nullLabel?: number;
  /** Which timesteps a sampler with fewer steps than T visits (default 'linspace'); see TimestepSpacing. */
  spacing?: TimestepSpacing;
  /** Clip the predicted x0 to [-1, 1] at every step (default true). */
  clipX0?: boolean;
  /** Called after every step with (step done, 1-based; total steps). */
  onProgress?: (step: number, total: number) => void;
  /** Stops sampling between steps; the promise rejects with an AbortError. */
  signal?: AbortSignal;
}
