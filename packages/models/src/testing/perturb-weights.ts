import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng.ts';

/**
 * Moves every weight by `scale`·N(0, 1) drawn from `rng`, in the variables' order. A fresh UNet's output layers
 * start at zero, so its output would ignore the input; perturbed, its samples depend on the input, the labels and
 * the weights, as a trained model's do.
 */
export function perturbWeights(variables: Map<string, tf.Variable>, rng: Rng, scale = 0.05): void {
  for (const v of variables.values()) v.assign(tf.tidy(() => tf.add(v, tf.mul(rng.normal(v.shape), scale))));
}
