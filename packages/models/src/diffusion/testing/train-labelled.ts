import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng.ts';
import type { Trainer } from '../train.ts';

/**
 * Trains a class-conditional model on a labelled image set (e.g. makeShapes) for `steps` steps, each on a batch of
 * `batch` images drawn with replacement by `order`. `onStep` (1-based step, its loss) may log or save a checkpoint.
 */
export async function trainLabelled(
  trainer: Trainer,
  data: { images: tf.Tensor4D; labels: tf.Tensor1D },
  opts: { steps: number; batch: number; order: Rng; onStep?: (step: number, loss: number) => void | Promise<void> },
): Promise<void> {
  const count = data.images.shape[0];
  for (let step = 1; step <= opts.steps; step++) {
    const idx = tf.tensor1d(opts.order.uniformIntArray(opts.batch, count), 'int32');
    const x = tf.gather<tf.Tensor4D>(data.images, idx);
    const y = tf.gather<tf.Tensor1D>(data.labels, idx);
    const { loss } = await trainer.step({ images: x, labels: y });
    tf.dispose([idx, x, y]);
    await opts.onStep?.(step, loss);
  }
}
