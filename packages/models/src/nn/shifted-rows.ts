import * as tf from '@tensorflow/tfjs';

/**
 * shiftedRows(x, offsets, length) = x[offsets[0] : offsets[0] + length] ++ x[offsets[1] : …] ++ …: several
 * overlapping windows of a flat tensor one after the other (flat), the left operand of the filter gradient's
 * one matMul off wasm (conv.ts), followed by `ones` ones (there a row of ones: the bias gradient). On wasm the
 * filter gradient is a kernel of its own (wasm-conv.ts) and this is not used.
 */
export function shiftedRows(x: tf.Tensor1D, offsets: number[], length: number, ones = 0): tf.Tensor1D {
  for (const o of offsets) {
    if (!Number.isInteger(o) || o < 0 || o + length > x.size) {
      throw new RangeError(`shiftedRows: window [${o}, ${o + length}) is outside the input of ${x.size} values`);
    }
  }
  const parts = offsets.map((o) => tf.slice(x, [o], [length]));
  if (ones > 0) parts.push(tf.ones([ones], x.dtype) as tf.Tensor1D);
  return tf.concat(parts);
}
