import type * as tf from '@tensorflow/tfjs';

/**
 * A hash of a model's weights, bit for bit (two 32-bit lanes of FNV-1a over the float32 words, in variable
 * order): replicas that applied the same updates to the same start have the same hash, and one flipped bit
 * changes it. Used to check that every data-parallel worker holds the same weights.
 */
export async function weightsHash(variables: Map<string, tf.Variable>): Promise<string> {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (const v of variables.values()) {
    const values = await v.data();
    const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      a = Math.imul(a ^ w, 0x01000193);
      b = Math.imul(b ^ (w >>> 16) ^ (w << 16), 0x85ebca6b) + i;
    }
  }
  return `${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`;
}
