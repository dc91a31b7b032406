import type * as tf from '@tensorflow/tfjs';
import type { Checkpoint, InferenceWeights, JsonValue } from '../checkpoint/types.ts';
import { validateGlowConfig, type GlowConfig } from './config.ts';
import { createGlow, type Glow } from './model.ts';
import type { GlowTrainer } from './train.ts';

/**
 * Glow through the shared checkpoint codec (checkpoint/): the files say `architecture: 'glow'` and their config
 * holds the network under `glow` (a GlowConfig) next to whatever else the caller records (the run config…).
 * Everything a Glow needs is trainable weights: the LU form's fixed P and sign(s) are the identity and +1
 * (invconv.ts), so no buffers travel besides `params/` (and `ema/`, `optim/`).
 */

/** Reads and validates the GlowConfig stored under `glow` in a checkpoint's or inference file's config. */
export function glowConfigFromRecord(config: JsonValue | undefined): GlowConfig {
  const root = config !== null && typeof config === 'object' && !Array.isArray(config) ? config : null;
  const glow = root?.['glow'];
  if (glow === null || typeof glow !== 'object' || Array.isArray(glow))
    throw new RangeError('model config: glow is missing (this file was not written for a Glow model)');
  const c = glow as unknown as GlowConfig;
  validateGlowConfig(c);
  return c;
}

export interface GlowCheckpointOptions {
  model: Glow;
  /** Supplies step, optimizer slots, EMA weights and the RNG state. */
  trainer: GlowTrainer;
  /** More config to record next to `glow` (e.g. the run's hyperparameters). */
  config?: Record<string, JsonValue>;
  extra?: JsonValue;
}

/** A Checkpoint to pass to saveCheckpoint (tensors are live: save before the next step). */
export function glowCheckpoint(opts: GlowCheckpointOptions): Checkpoint {
  const state = opts.trainer.getState();
  const checkpoint: Checkpoint = {
    architecture: 'glow',
    variables: opts.model.variables,
    optimizer: state.optimizer,
    step: state.step,
    rngState: state.rngState,
    config: {
      ...(opts.config ?? {}),
      glow: opts.model.config as unknown as JsonValue,
      // A step-0 checkpoint taken after the data-dependent init says so: resuming it must not fit them again.
      actnormInitialized: opts.model.initialized,
    },
  };
  if (state.ema) checkpoint.ema = state.ema;
  if (opts.extra !== undefined) checkpoint.extra = opts.extra;
  return checkpoint;
}

/** Copies named tensors into the model's variables; every variable must be present with its shape. */
export function assignGlowWeights(model: Glow, weights: ReadonlyMap<string, tf.Tensor>, what: string): void {
  for (const [name, v] of model.variables) {
    const t = weights.get(name);
    if (!t) throw new Error(`${what} lacks weight ${name}: it was saved for another Glow architecture`);
    if (t.shape.join() !== v.shape.join())
      throw new Error(
        `${what} weight ${name} has shape [${t.shape.join(',')}], the model expects [${v.shape.join(',')}]`,
      );
  }
  for (const [name, v] of model.variables) v.assign(weights.get(name)!);
}

function requireGlow(architecture: string | undefined, what: string): void {
  if (architecture !== 'glow')
    throw new Error(
      `${what} holds a ${architecture ?? 'ddpm'} model, not a Glow (architecture '${architecture ?? 'ddpm'}')`,
    );
}

/**
 * The model a Glow checkpoint holds, with its raw weights (or the EMA weights with `ema: true`). The model is
 * marked initialised when its actnorms were fitted (glowCheckpointInitialized).
 * Resume training with `trainer.setState(glowTrainerState(checkpoint))` on a trainer over this model.
 */
export function glowFromCheckpoint(checkpoint: Checkpoint, opts: { ema?: boolean } = {}): Glow {
  requireGlow(checkpoint.architecture, 'checkpoint');
  const model = createGlow(glowConfigFromRecord(checkpoint.config));
  try {
    const weights = opts.ema ? checkpoint.ema : checkpoint.variables;
    if (!weights) throw new Error('checkpoint has no EMA weights');
    assignGlowWeights(model, weights, 'checkpoint');
  } catch (error) {
    model.dispose();
    throw error;
  }
  if (glowCheckpointInitialized(checkpoint)) model.markInitialized();
  return model;
}

/**
 * Whether a checkpoint's actnorms were fitted: every checkpoint past step 0 (the init runs before the first
 * update), and a step-0 one saved after the init (it records actnormInitialized).
 */
export function glowCheckpointInitialized(checkpoint: Checkpoint): boolean {
  if (checkpoint.step > 0) return true;
  const config = checkpoint.config;
  return (
    config !== null && typeof config === 'object' && !Array.isArray(config) && config['actnormInitialized'] === true
  );
}

/** The trainer state stored in a checkpoint (pass to GlowTrainer.setState). */
export function glowTrainerState(checkpoint: Checkpoint): Parameters<GlowTrainer['setState']>[0] {
  if (!checkpoint.optimizer) throw new Error('checkpoint has no optimizer state: it cannot resume training');
  const state: Parameters<GlowTrainer['setState']>[0] = {
    step: checkpoint.step,
    optimizer: checkpoint.optimizer,
    rngState: checkpoint.rngState,
  };
  if (checkpoint.ema) state.ema = checkpoint.ema;
  return state;
}

/** What a published Glow holds: the EMA weights when the trainer keeps an EMA, else the raw ones. */
export function glowInferenceWeights(
  model: Glow,
  opts: { trainer?: GlowTrainer; config?: Record<string, JsonValue> } = {},
): InferenceWeights {
  const out: InferenceWeights = {
    architecture: 'glow',
    weights: opts.trainer?.ema ? opts.trainer.ema.shadow : model.variables,
    config: { ...(opts.config ?? {}), glow: model.config as unknown as JsonValue },
  };
  if (opts.trainer) out.step = opts.trainer.stepCount;
  return out;
}

/** The model published weights hold (marked initialised: they are trained weights). */
export function glowFromInferenceWeights(weights: InferenceWeights): Glow {
  requireGlow(weights.architecture, 'inference weights');
  const model = createGlow(glowConfigFromRecord(weights.config));
  try {
    assignGlowWeights(model, weights.weights, 'inference weights');
  } catch (error) {
    model.dispose();
    throw error;
  }
  model.markInitialized();
  return model;
}
