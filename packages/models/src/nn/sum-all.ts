import * as tf from '@tensorflow/tfjs';

/**
 * Σ of many same-shape tensors, as a tree of small AddN calls. One AddN over hundreds of inputs (every
 * parameter's squared-gradient sum) binds one storage buffer per input: WebGPU allows 8 per shader stage
 * by default, so the pipeline is invalid there and the result silently NaN (measured on an H100 via Dawn).
 */
export function sumAll(tensors: tf.Tensor[], fanIn = 7): tf.Tensor {
  if (tensors.length === 0) throw new RangeError('sumAll needs at least one tensor');
  return tf.tidy(() => {
    let level = tensors;
    while (level.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < level.length; i += fanIn) {
        const group = level.slice(i, i + fanIn);
        next.push(group.length === 1 ? group[0]! : tf.addN(group));
      }
      level = next;
    }
    return level[0]!;
  });
}
