import * as tf from '@tensorflow/tfjs';
import { conv2d } from '../nn/conv.ts';
import type { ParamStore } from '../nn/params.ts';
import { assignValues, channelMoments } from './actnorm.ts';

/**
 * Convolutions of the coupling networks (openai/glow's `f`): every conv but the last is normalised from data
 * and followed by a ReLU, and the last one is zero-initialised. openai/glow keeps a separate actnorm (bias and
 * log-scale) after each inner conv; here its data-dependent initialisation is applied to the conv's own kernel
 * and bias instead (as weight normalisation's init, Salimans & Kingma 2016): (conv(x, W) + b)·s =
 * conv(x, W·s) + b·s, so the network starts exactly as openai's does and then trains the same function class
 * with fewer small ops per step (each per-channel broadcast costs several kernels in the backward pass).
 */

/** conv k×k (normalised from data at init) → ReLU. */
export class ConvNorm {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    store: ParamStore,
    name: string,
    cin: number,
    cout: number,
    readonly k: number,
  ) {
    this.kernel = store.weight(`${name}.kernel`, [k, k, cin, cout], cin * k * k, cout * k * k);
    this.bias = store.zeros(`${name}.bias`, [cout]);
  }

  /** Data-dependent init: scales and shifts the conv so its outputs on this batch have zero mean, unit variance. */
  initFrom(x: tf.Tensor4D): void {
    const raw = tf.tidy(() => conv2d(x, this.kernel as tf.Tensor4D, tf.zeros([this.kernel.shape[3]!])));
    const { mean, std } = channelMoments(raw);
    raw.dispose();
    const cout = mean.length;
    const kernel = this.kernel.dataSync();
    assignValues(
      this.kernel,
      Float32Array.from(kernel, (v, i) => v / std[i % cout]!),
    );
    assignValues(
      this.bias,
      Float32Array.from(mean, (m, i) => -m / std[i]!),
    );
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.relu(conv2d(x, this.kernel as tf.Tensor4D, this.bias as tf.Tensor1D)));
  }
}

/** Zero-initialised conv k×k with bias: a new coupling network outputs exactly 0. */
export class ZeroConv {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(store: ParamStore, name: string, cin: number, cout: number, k: number) {
    this.kernel = store.zeros(`${name}.kernel`, [k, k, cin, cout]);
    this.bias = store.zeros(`${name}.bias`, [cout]);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return conv2d(x, this.kernel as tf.Tensor4D, this.bias as tf.Tensor1D);
  }
}
