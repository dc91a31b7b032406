import type * as tf from '@tensorflow/tfjs';
import type { RngState } from '../rng.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Which model family the weights belong to. Recorded in the file's metadata so a loader builds the right
 * network; files written before the field existed hold DDPM weights and load as 'ddpm'.
 */
export type ModelArchitecture = 'ddpm' | 'glow';

export const MODEL_ARCHITECTURES: readonly ModelArchitecture[] = ['ddpm', 'glow'];

/** Everything needed to resume training exactly where it stopped. */
export interface Checkpoint {
  /** Model family (default 'ddpm' when saving; files without the field load as 'ddpm'). */
  architecture?: ModelArchitecture;
  /** Trainable weights by name (stored as `params/<name>`). */
  variables: Map<string, tf.Tensor>;
  /** EMA shadow weights by name (stored as `ema/<name>`). */
  ema?: Map<string, tf.Tensor>;
  /** Optimizer slots (moments, iteration counters) by name (stored as `optim/<name>`). */
  optimizer?: Map<string, tf.Tensor>;
  /** Optimizer steps taken. */
  step: number;
  rngState: RngState;
  /** Model and training configuration, as JSON. */
  config: JsonValue;
  /** Anything else the trainer must restore (data loader position, EMA update count…), as JSON. */
  extra?: JsonValue;
}

/** What a published model holds: EMA weights and the config to rebuild the network. */
export interface InferenceWeights {
  /** Model family (default 'ddpm' when saving; files without the field load as 'ddpm'). */
  architecture?: ModelArchitecture;
  weights: Map<string, tf.Tensor>;
  config: JsonValue;
  /** Training step the weights come from, when known. */
  step?: number;
}
