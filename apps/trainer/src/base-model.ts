import * as tf from '@tensorflow/tfjs';
import { loadInferenceWeights, type UNet } from '@dapple/diffusion';
import type { Assignment } from '@dapple/client/trainer-protocol';
import { filesHandler } from './artifacts.ts';
import { withRetry } from './hub.ts';

type Log = (msg: string) => void;

/**
 * Fine-tuning: copies a published model version's weights into the fresh model before the trainer (and
 * with it the EMA and the optimizer) is built, so the EMA starts from the base and the optimizer from zero.
 * A published version holds one set of weights, its EMA weights (or the raw ones when its run kept no EMA):
 * they become both the raw and the EMA weights here. The hub checked the architecture at startRun; a
 * mismatch found here (a version published by another build) fails the run naming the weight.
 */
export async function loadBaseWeights(model: UNet, base: NonNullable<Assignment['baseModel']>, log: Log): Promise<void> {
  const loaded = await withRetry(`downloading base model "${base.name}" v${base.number}`, () => loadInferenceWeights(filesHandler(base.files)), log);
  try {
    for (const [name, v] of model.variables) {
      const w = loaded.weights.get(name);
      if (!w) throw new Error(`base model "${base.name}" v${base.number} lacks weight ${name}: it has another architecture`);
      if (w.shape.join('x') !== v.shape.join('x')) {
        throw new Error(`base model "${base.name}" v${base.number}: weight ${name} is [${w.shape.join(', ')}], the run's is [${v.shape.join(', ')}]`);
      }
      v.assign(w.dtype === v.dtype ? w : tf.cast(w, v.dtype));
    }
  } finally {
    tf.dispose([...loaded.weights.values()]);
  }
  log(`fine-tuning from model "${base.name}" v${base.number} (${base.versionId}): base weights loaded, fresh optimizer, step 0`);
}
