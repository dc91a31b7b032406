import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../rng.ts';
import type { SampleOptions } from './types.ts';
import { throwIfAborted, yieldToEventLoop } from './yield.ts';

/**
 * One reverse step: from x at step index i (counted down from total-1 to 0) to the next x. `noise`
 * returns a fresh N(0, I) tensor of the output shape when the step needs one. Runs inside tf.tidy.
 */
export type ReverseStep = (x: tf.Tensor4D, i: number, noise: () => tf.Tensor4D) => tf.Tensor4D;

/**
 * Drives a sampler: draws x_T from the seeded Rng, applies `step` for i = total-1 … 0 with one tidy
 * per step (only x survives a step), reports progress, yields to the event loop and honours the abort
 * signal between steps, and returns the result clipped to [-1, 1].
 */
export async function runReverseLoop(opts: SampleOptions, total: number, step: ReverseStep): Promise<tf.Tensor4D> {
  throwIfAborted(opts.signal);
  const [n, h, w, c] = opts.shape;
  const first = opts.firstImageIndex ?? 0;
  if (!Number.isSafeInteger(first) || first < 0)
    throw new RangeError(`firstImageIndex must be an integer ≥ 0, got ${first}`);
  // One noise stream per image, so image k depends only on (seed, firstImageIndex + k): a request can
  // be split across workers or batches and still give the same images.
  const base = new Rng(opts.seed);
  const streams = Array.from({ length: n }, (_, i) => base.fork(first + i));
  const perImage = h * w * c;
  const noise = () => {
    const values = new Float32Array(n * perImage);
    streams.forEach((rng, i) => values.set(rng.normalArray(perImage), i * perImage));
    return tf.tensor4d(values, opts.shape);
  };
  let x = noise();
  try {
    for (let i = total - 1; i >= 0; i--) {
      const next = tf.tidy(() => step(x, i, noise));
      x.dispose();
      x = next;
      opts.onProgress?.(total - i, total);
      await yieldToEventLoop();
      if (i > 0) throwIfAborted(opts.signal);
    }
    const out = tf.clipByValue(x, -1, 1) as tf.Tensor4D;
    x.dispose();
    return out;
  } catch (error) {
    x.dispose();
    throw error;
  }
}
