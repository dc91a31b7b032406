import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../nn/params.ts';
import { ConvNorm, ZeroConv } from './conv-layers.ts';

/** Offset inside the sigmoid scale (openai/glow): the coupling starts close to the identity, scale σ(2) ≈ 0.88. */
export const COUPLING_SCALE_OFFSET = 2;

/** Splits the channels of x into the first `c1` and the rest. */
export function splitChannels(x: tf.Tensor4D, c1: number): [tf.Tensor4D, tf.Tensor4D] {
  const [a, b] = tf.split(x, [c1, x.shape[3] - c1], 3);
  return [a as tf.Tensor4D, b as tf.Tensor4D];
}

/**
 * Affine (or additive) coupling (Glow §3.3, RealNVP): x = [x1, x2], h = NN(x1), and
 *   affine:   y2 = (x2 + shift)·σ(raw + 2) with [shift, raw] = h, log-det Σ log σ(raw + 2) per image;
 *   additive: y2 = x2 + h, log-det 0.
 * y1 = x1. NN = conv3×3 → ReLU → conv1×1 → ReLU → zero-initialised conv3×3 (the inner convs normalised from
 * data at init, see conv-layers.ts), so a new
 * coupling is the identity (additive) or a fixed 0.88 scale of x2 (affine).
 */
export class Coupling {
  readonly c1: number;
  readonly c2: number;
  private readonly conv1: ConvNorm;
  private readonly conv2: ConvNorm;
  private readonly out: ZeroConv;

  constructor(
    store: ParamStore,
    name: string,
    readonly channels: number,
    hidden: number,
    readonly kind: 'affine' | 'additive',
  ) {
    this.c1 = Math.floor(channels / 2);
    this.c2 = channels - this.c1;
    this.conv1 = new ConvNorm(store, `${name}.conv1`, this.c1, hidden, 3);
    this.conv2 = new ConvNorm(store, `${name}.conv2`, hidden, hidden, 1);
    this.out = new ZeroConv(store, `${name}.out`, hidden, kind === 'affine' ? 2 * this.c2 : this.c2, 3);
  }

  /** Runs the network on x1; with `init`, first initialises its actnorms from this batch. */
  private net(x1: tf.Tensor4D, init: boolean): tf.Tensor4D {
    if (init) this.conv1.initFrom(x1);
    const h1 = this.conv1.apply(x1);
    if (init) this.conv2.initFrom(h1);
    const h2 = this.conv2.apply(h1);
    return this.out.apply(h2);
  }

  forward(x: tf.Tensor4D, init = false): { y: tf.Tensor4D; logdet: tf.Tensor1D | null } {
    if (this.kind === 'additive') {
      return {
        y: tf.tidy(() => {
          const [x1, x2] = splitChannels(x, this.c1);
          return tf.concat([x1, tf.add(x2, this.net(x1, init))], 3) as tf.Tensor4D;
        }),
        logdet: null,
      };
    }
    return tf.tidy(() => {
      const [x1, x2] = splitChannels(x, this.c1);
      const [shift, raw] = splitChannels(this.net(x1, init), this.c2);
      const pre = tf.add(raw, COUPLING_SCALE_OFFSET);
      const y2 = tf.mul(tf.add(x2, shift), tf.sigmoid(pre));
      // log σ(a) = −softplus(−a), stable for any a (tf.logSigmoid's gradient loses its saved tensor in nested tidies).
      const logdet = tf.neg(tf.sum(tf.softplus(tf.neg(pre)), [1, 2, 3])) as tf.Tensor1D;
      return { y: tf.concat([x1, y2], 3) as tf.Tensor4D, logdet };
    });
  }

  inverse(y: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [y1, y2] = splitChannels(y, this.c1);
      const h = this.net(y1, false);
      if (this.kind === 'additive') return tf.concat([y1, tf.sub(y2, h)], 3) as tf.Tensor4D;
      const [shift, raw] = splitChannels(h, this.c2);
      const x2 = tf.sub(tf.div(y2, tf.sigmoid(tf.add(raw, COUPLING_SCALE_OFFSET))), shift);
      return tf.concat([y1, x2], 3) as tf.Tensor4D;
    });
  }
}
