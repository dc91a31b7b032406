import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/rng.ts';

/**
 * A generated dataset for learning tests: `count` images of size×size×3, each one filled disk of a random
 * saturated colour (radius 3–5 px, fully inside the image) on a near-black background, in [-1, 1].
 */
export function diskImages(count: number, size: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const data = new Float32Array(count * size * size * 3).fill(-0.9);
  for (let n = 0; n < count; n++) {
    const u = rng.uniformArray(6);
    const radius = 3 + 2 * u[0]!;
    const cx = radius + u[1]! * (size - 2 * radius);
    const cy = radius + u[2]! * (size - 2 * radius);
    // One channel high, the others random: saturated colours.
    const hi = Math.floor(u[3]! * 3);
    const colour = [0, 1, 2].map((c) => (c === hi ? 0.9 : -0.9 + 1.6 * (c === (hi + 1) % 3 ? u[4]! : u[5]! * 0.5)));
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 > radius * radius) continue;
        const o = ((n * size + y) * size + x) * 3;
        data[o] = colour[0]!;
        data[o + 1] = colour[1]!;
        data[o + 2] = colour[2]!;
      }
    }
  }
  return tf.tensor4d(data, [count, size, size, 3]);
}
