import * as tf from '@tensorflow/tfjs';
import { sumAll } from '../nn/sum-all.ts';

/**
 * Global-norm clipping: scales every gradient by min(1, maxNorm/‖g‖) where ‖g‖ is the norm of all
 * gradients together. Returns the new gradients and the norm before clipping (a scalar tensor, so
 * the caller decides when to download it). Without maxNorm only the norm is computed.
 */
export function clipByGlobalNorm(
  grads: Map<string, tf.Tensor>,
  maxNorm?: number,
): { grads: Map<string, tf.Tensor>; norm: tf.Scalar } {
  if (maxNorm !== undefined && !(maxNorm > 0)) throw new RangeError(`clipNorm must be > 0, got ${maxNorm}`);
  const norm = tf.tidy(() => tf.sqrt(sumAll([...grads.values()].map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
  if (maxNorm === undefined) return { grads, norm };
  const out = new Map<string, tf.Tensor>();
  tf.tidy(() => {
    const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
    for (const [name, g] of grads) out.set(name, tf.keep(tf.mul(g, scale)));
  });
  return { grads: out, norm };
}
