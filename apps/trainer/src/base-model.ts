import * as tf from '@tensorflow/tfjs';
import { loadInferenceWeights, type UNet } from '@dapple/models';
import type { Assignment } from '@dapple/contracts/trainer-protocol';
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
export async function loadBaseWeights(
  model: UNet,
  base: NonNullable<Assignment['baseModel']>,
  labelNames: readonly string[],
  log: Log,
): Promise<void> {
  const loaded = await withRetry(
    `downloading base model "${base.name}" v${base.number}`,
    () => loadInferenceWeights(filesHandler(base.files)),
    log,
  );
  try {
    for (const [name, v] of model.variables) {
      const w = loaded.weights.get(name);
      if (!w)
        throw new Error(`base model "${base.name}" v${base.number} lacks weight ${name}: it has another architecture`);
      if (w.shape.join('x') !== v.shape.join('x')) {
        throw new Error(
          `base model "${base.name}" v${base.number}: weight ${name} is [${w.shape.join(', ')}], the run's is [${v.shape.join(', ')}]`,
        );
      }
      const value = name === LABEL_EMBEDDING && base.labelRows ? reorderLabelRows(w, base.labelRows) : w;
      v.assign(value.dtype === v.dtype ? value : tf.cast(value, v.dtype));
      if (value !== w) value.dispose();
    }
  } finally {
    tf.dispose([...loaded.weights.values()]);
  }
  log(
    `fine-tuning from model "${base.name}" v${base.number} (${base.versionId}): base weights loaded, fresh optimizer, step 0`,
  );
  if (base.labelRows) {
    const moved = base.labelRows.flatMap((row, i) =>
      row === i ? [] : [`${labelNames[i] ?? `label ${i}`} from base class ${row}`],
    );
    log(`classes matched to the base's by name: ${moved.join(', ')}`);
  }
}

/** The class-embedding table: one row per class, then the null label's (classifier-free guidance). */
const LABEL_EMBEDDING = 'label_emb.kernel';

/**
 * The base's label-embedding table with row i taken from base row `rows[i]` for each class; the last row (the
 * null label) stays where it is.
 */
export function reorderLabelRows(table: tf.Tensor, rows: readonly number[]): tf.Tensor {
  const classes = table.shape[0] - 1;
  if (rows.length !== classes || rows.some((r) => r < 0 || r >= classes) || new Set(rows).size !== classes) {
    throw new Error(`the hub's label rows [${rows.join(', ')}] are not an order of the base's ${classes} classes`);
  }
  return tf.tidy(() => tf.gather(table, tf.tensor1d([...rows, classes], 'int32')));
}
