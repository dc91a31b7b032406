import * as tf from '@tensorflow/tfjs';
import type { InitRng } from '../nn/init.ts';
import type { ParamStore } from '../nn/params.ts';
import { dense } from '../nn/ops.ts';
import { ActNorm } from './actnorm.ts';
import { Coupling } from './coupling.ts';
import { InvConv1x1 } from './invconv.ts';

/** y = x·A + c per pixel: [B, H, W, C] through one dense op (wasm kernels for its gradient). */
function channelAffine(x: tf.Tensor4D, a: tf.Tensor2D, c: tf.Tensor1D): tf.Tensor4D {
  const [b, h, w, ch] = x.shape;
  return dense(x.reshape([b * h * w, ch]), a, c).reshape([b, h, w, a.shape[1]]) as tf.Tensor4D;
}

/**
 * One step of flow (Glow §3): actnorm → invertible 1×1 conv → coupling. Actnorm and the 1×1 conv are both
 * per-pixel affine maps of the channels, so the forward pass runs them as ONE: ((x + b)·s)·W = x·A + c with
 * A = diag(s)·W, c = (b⊙s)·W, a single matMul over the activations (the broadcasts and the c×c product touch
 * only parameters). The inverse composes A⁻¹ = W⁻¹·diag(1/s) in float64 JS.
 */
export class FlowStep {
  readonly actnorm: ActNorm;
  readonly invconv: InvConv1x1;
  readonly coupling: Coupling;

  constructor(
    store: ParamStore,
    name: string,
    readonly channels: number,
    hidden: number,
    coupling: 'affine' | 'additive',
    rng: InitRng,
  ) {
    this.actnorm = new ActNorm(store, `${name}.actnorm`, channels);
    this.invconv = new InvConv1x1(store, `${name}.invconv`, channels, rng);
    this.coupling = new Coupling(store, `${name}.coupling`, channels, hidden, coupling);
  }

  /** y and the log-determinant per image ([B]); with `init`, data-dependent initialisation on the way. */
  forward(x: tf.Tensor4D, init = false): { y: tf.Tensor4D; logdet: tf.Tensor1D } {
    const [b, h, w, c] = x.shape;
    return tf.tidy(() => {
      if (init) this.actnorm.initFrom(x);
      const s = this.actnorm.scale();
      const wMat = this.invconv.weight();
      const a = tf.mul(s.reshape([c, 1]), wMat) as tf.Tensor2D;
      // c = (b⊙s)·W as a column sum: wasm's fused matMul rejects a bias whose data was made with another rank
      // (a reshaped matMul result), whatever the tensor's shape says.
      const shift = tf.sum(tf.mul(tf.mul(this.actnorm.bias, s).reshape([c, 1]), wMat), 0) as tf.Tensor1D;
      const mixed = channelAffine(x, a, shift);
      const pixelLogdet = tf.add(tf.sum(this.actnorm.logs), this.invconv.logdetPerPixel());
      const out = this.coupling.forward(mixed, init);
      let logdet = tf.mul(tf.fill([b], 1), tf.mul(pixelLogdet, h * w)) as tf.Tensor1D;
      if (out.logdet) logdet = tf.add(logdet, out.logdet) as tf.Tensor1D;
      return { y: out.y, logdet };
    });
  }

  inverse(y: tf.Tensor4D): tf.Tensor4D {
    const c = this.channels;
    const mixed = this.coupling.inverse(y);
    // x = (mixed − c)·A⁻¹ with A⁻¹ = W⁻¹·diag(1/s) (float64) and c·A⁻¹ = (b⊙s)·W·W⁻¹·diag(1/s) = b.
    const wInv = this.invconv.weightInverse64();
    const bias = this.actnorm.bias.dataSync();
    const logs = this.actnorm.logs.dataSync();
    const aInv = new Float32Array(c * c);
    for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) aInv[i * c + j] = wInv[i * c + j]! * Math.exp(-logs[j]!);
    const aT = tf.tensor2d(aInv, [c, c]);
    const bT = tf.tensor1d(Float32Array.from(bias, (v) => -v));
    const x = channelAffine(mixed, aT, bT);
    tf.dispose([mixed, aT, bT]);
    return x;
  }
}
