import type * as tf from '@tensorflow/tfjs';
import { encodeArtifacts, headMetadata, loadArtifacts, requireSave, type Precision } from './codec.ts';
import type { InferenceWeights, JsonValue } from './types.ts';

export const INFERENCE_FORMAT = 'dapple-inference';

/**
 * Saves the form a published model takes (and the browser downloads): EMA weights stored as
 * `params/<name>` plus the config. `precision: 'float16'` halves the size; tf.io dequantizes on load.
 */
export async function saveInferenceWeights(
  handler: tf.io.IOHandler,
  model: InferenceWeights,
  options: { precision?: Precision } = {},
): Promise<tf.io.SaveResult> {
  const save = requireSave(handler);
  const precision = options.precision ?? 'float32';
  if (precision !== 'float32' && precision !== 'float16') {
    throw new RangeError(`precision must be 'float32' or 'float16', got ${String(precision)}`);
  }
  const metadata: Record<string, JsonValue> = {
    ...headMetadata('inference', model.architecture),
    config: model.config,
    precision,
  };
  if (model.step !== undefined) metadata['step'] = model.step;
  return save(await encodeArtifacts(INFERENCE_FORMAT, [['params', model.weights]], metadata, precision));
}

/** Loads weights saved by saveInferenceWeights (from disk, memory, an object store or tf.io.http). */
export async function loadInferenceWeights(handler: tf.io.IOHandler): Promise<InferenceWeights> {
  const { metadata, groups, architecture } = await loadArtifacts(handler, INFERENCE_FORMAT, 'inference weights');
  const out: InferenceWeights = {
    architecture,
    weights: groups.get('params') ?? new Map<string, tf.Tensor>(),
    config: metadata['config'] ?? null,
  };
  if (typeof metadata['step'] === 'number') out.step = metadata['step'];
  return out;
}
