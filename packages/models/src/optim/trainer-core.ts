import * as tf from '@tensorflow/tfjs';
import type { Ema } from './ema.ts';
import type { Optimizer } from './optimizers.ts';
import type { Rng, RngState } from '../rng.ts';

/**
 * Everything besides weights and config that a checkpoint needs to resume a trainer exactly: the same for every
 * model family (each keeps its own name for it).
 */
export interface TrainingState {
  step: number;
  optimizer: Map<string, tf.Tensor>;
  ema?: Map<string, tf.Tensor>;
  rngState: RngState;
}

/** The parts of a trainer that carry state from step to step, whatever the model family. */
export interface TrainingParts {
  readonly optimizer: Optimizer;
  readonly ema: Ema | null;
  readonly rng: Rng;
}

/** Checks the options every family's trainer shares (errors name the field). */
export function validateTrainingOptions(cfg: { microBatch?: number | undefined; clipNorm?: number | undefined }): void {
  if (cfg.microBatch !== undefined && !(Number.isInteger(cfg.microBatch) && cfg.microBatch >= 1))
    throw new RangeError(`trainer.microBatch must be an integer ≥ 1, got ${cfg.microBatch}`);
  if (cfg.clipNorm !== undefined && !(cfg.clipNorm > 0))
    throw new RangeError(`trainer.clipNorm must be > 0, got ${cfg.clipNorm}`);
}

/** Live tensors (do not dispose); pair with the model's variables for a checkpoint. */
export function trainingStateOf({ optimizer, ema, rng }: TrainingParts): TrainingState {
  const state: TrainingState = { step: optimizer.step, optimizer: optimizer.getState(), rngState: rng.getState() };
  if (ema) state.ema = ema.getState();
  return state;
}

export function restoreTrainingState({ optimizer, ema, rng }: TrainingParts, state: TrainingState): void {
  optimizer.setState(state.optimizer);
  if (ema) {
    if (!state.ema) throw new Error('trainer state has no EMA weights but the trainer keeps an EMA');
    ema.setState(state.ema);
  }
  rng.setState(state.rngState);
}

/**
 * Adds one micro-batch's gradients (keyed by TF.js variable name, as tf.variableGrads returns them) to the running
 * sum keyed by weight name, disposing what it replaces; `summed` null starts the sum.
 */
export function accumulateGradients(
  summed: Map<string, tf.Tensor> | null,
  grads: tf.NamedTensorMap,
  tfNameToName: ReadonlyMap<string, string>,
): Map<string, tf.Tensor> {
  const named = new Map<string, tf.Tensor>();
  for (const [tfName, g] of Object.entries(grads)) named.set(tfNameToName.get(tfName)!, g);
  if (summed === null) return named;
  for (const [name, g] of named) {
    const prev = summed.get(name);
    summed.set(name, prev ? tf.add(prev, g) : g);
    if (prev) {
      prev.dispose();
      g.dispose();
    }
  }
  return summed;
}

/** Summed gradients as the optimizer's flat buckets (clipping and the update are then a few large ops each). */
export function flattenGradients(optimizer: Optimizer, summed: Map<string, tf.Tensor>): tf.Tensor1D[] {
  const flats = optimizer.layout.buckets.map((_, i) => optimizer.layout.flatten(summed, i));
  tf.dispose([...summed.values()]);
  return flats;
}
