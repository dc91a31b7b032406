import type * as tf from '@tensorflow/tfjs';
import type { RngState } from '../rng.ts';
import { encodeArtifacts, headMetadata, loadArtifacts, requireSave } from './codec.ts';
import type { Checkpoint, JsonValue } from './types.ts';

export const CHECKPOINT_FORMAT = 'dapple-checkpoint';

/**
 * Saves a full training checkpoint through any tf.io IOHandler: weights (`params/`), EMA weights
 * (`ema/`) and optimizer slots (`optim/`) in one buffer, step, RNG state, config and extra as JSON, and the
 * model family (`architecture`) so a loader knows which network the weights belong to.
 * Values are stored bit-exactly (float32/int32).
 */
export async function saveCheckpoint(handler: tf.io.IOHandler, checkpoint: Checkpoint): Promise<tf.io.SaveResult> {
  const save = requireSave(handler);
  if (!Number.isSafeInteger(checkpoint.step) || checkpoint.step < 0) {
    throw new RangeError(`checkpoint.step must be an integer ≥ 0, got ${checkpoint.step}`);
  }
  const groups: Array<readonly [string, ReadonlyMap<string, tf.Tensor>]> = [['params', checkpoint.variables]];
  if (checkpoint.ema) groups.push(['ema', checkpoint.ema]);
  if (checkpoint.optimizer) groups.push(['optim', checkpoint.optimizer]);
  const artifacts = await encodeArtifacts(CHECKPOINT_FORMAT, groups, {
    ...headMetadata('checkpoint', checkpoint.architecture),
    step: checkpoint.step,
    rngState: checkpoint.rngState as unknown as JsonValue,
    config: checkpoint.config,
    extra: checkpoint.extra ?? null,
    hasEma: checkpoint.ema !== undefined,
    hasOptimizer: checkpoint.optimizer !== undefined,
  });
  return save(artifacts);
}

/** Loads a checkpoint saved by saveCheckpoint; the caller owns (and disposes) the returned tensors. */
export async function loadCheckpoint(handler: tf.io.IOHandler): Promise<Checkpoint> {
  const { metadata, groups, architecture } = await loadArtifacts(handler, CHECKPOINT_FORMAT, 'checkpoint', (m) => {
    const step = m['step'];
    if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0)
      throw new Error(`checkpoint metadata step must be an integer ≥ 0, got ${JSON.stringify(step)}`);
  });
  const checkpoint: Checkpoint = {
    architecture,
    variables: groups.get('params') ?? new Map<string, tf.Tensor>(),
    step: metadata['step'] as number,
    rngState: metadata['rngState'] as unknown as RngState,
    config: metadata['config'] ?? null,
  };
  if (metadata['hasEma']) checkpoint.ema = groups.get('ema') ?? new Map();
  if (metadata['hasOptimizer']) checkpoint.optimizer = groups.get('optim') ?? new Map();
  if (metadata['extra'] !== null && metadata['extra'] !== undefined) checkpoint.extra = metadata['extra'];
  return checkpoint;
}
