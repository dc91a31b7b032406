import * as tf from '@tensorflow/tfjs';
import type { InitRng } from '../nn/init.ts';
import type { ParamStore } from '../nn/params.ts';
import { dense } from '../nn/ops.ts';
import { assignValues } from './actnorm.ts';
import {
  identity,
  invertUnitLower,
  invertUpper,
  luDecompose,
  matMul,
  permutationMatrix,
  randomOrthogonal,
  transpose,
  type Matrix,
} from './linalg.ts';

/** The fixed parts of the LU form: W = P·L·(U + diag(sign·exp(logs))). */
export interface InvConvFixed {
  /** P as (P·X)[i] = X[perm[i]]; identity when omitted. */
  perm?: number[];
  /** sign(s) per channel (±1); all +1 when omitted. */
  sign?: number[];
}

/** N(0, 1) draws from the seeded init generator (Box–Muller). */
function normalFrom(rng: InitRng): () => number {
  return () => {
    const u1 = 1 - rng.next();
    const u2 = rng.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  };
}

/**
 * The initial weight of one layer in LU form with P = I and sign(s) = +1: a random rotation Q is
 * decomposed with pivoting, Q = P·L·U, and the layer starts at W₀ = Pᵀ·Q·D with D = diag(sign(diag U)).
 * W₀ is itself a rotation (a row permutation and column sign flips of one) and W₀ = L·(U·D) with
 * |L_ij| ≤ 1 and U·D's diagonal positive, so the fixed P and sign(s) of the paper's parametrisation are
 * the identity and all ones: nothing untrainable has to be stored or restored with the weights.
 */
export function initialLu(channels: number, rng: InitRng): { lower: Matrix; upper: Matrix; logs: Float64Array } {
  const q = randomOrthogonal(channels, normalFrom(rng));
  const { lower, upper } = luDecompose(q, channels);
  const n = channels;
  const strictUpper = new Float64Array(n * n);
  const logs = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const d = Math.sign(upper[j * n + j]!);
    for (let i = 0; i < j; i++) strictUpper[i * n + j] = upper[i * n + j]! * d;
    logs[j] = Math.log(Math.abs(upper[j * n + j]!));
  }
  const strictLower = Float64Array.from(lower);
  for (let i = 0; i < n; i++) strictLower[i * n + i] = 0;
  return { lower: strictLower, upper: strictUpper, logs };
}

function maskArray(n: number, keep: (i: number, j: number) => boolean): Float32Array {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (keep(i, j)) m[i * n + j] = 1;
  return m;
}

interface LuConstants {
  lowerMask: tf.Tensor2D;
  upperMask: tf.Tensor2D;
  eye: tf.Tensor2D;
}

/** The masks and identity of size n, made once per backend and kept (a few c×c tensors shared by all layers). */
const constantsCache = new Map<string, LuConstants>();
function luConstants(n: number): LuConstants {
  const key = `${tf.getBackend()}:${n}`;
  let c = constantsCache.get(key);
  if (!c) {
    c = {
      lowerMask: tf.keep(
        tf.tensor2d(
          maskArray(n, (i, j) => j < i),
          [n, n],
        ),
      ),
      upperMask: tf.keep(
        tf.tensor2d(
          maskArray(n, (i, j) => j > i),
          [n, n],
        ),
      ),
      eye: tf.keep(tf.eye(n) as tf.Tensor2D),
    };
    constantsCache.set(key, c);
  }
  return c;
}

/**
 * Invertible 1×1 convolution in LU form (Glow §3.2): per pixel y = x·W with W = P·L·(U + diag(sign·e^logs)),
 * L unit lower-triangular, U strictly upper-triangular (both trainable, stored as full c×c matrices whose
 * masked-out entries are unused), logs trainable, P and sign fixed. log|det W| = Σ logs, so the layer's
 * log-determinant is H·W·Σ logs without any determinant in TF.js. The inverse is computed in float64 JS.
 */
export class InvConv1x1 {
  readonly lower: tf.Variable;
  readonly upper: tf.Variable;
  readonly logs: tf.Variable;
  readonly perm: number[] | null;
  readonly sign: number[] | null;

  constructor(
    store: ParamStore,
    name: string,
    readonly channels: number,
    rng: InitRng,
    fixed: InvConvFixed = {},
  ) {
    const n = channels;
    const init = initialLu(n, rng);
    this.lower = store.zeros(`${name}.lower`, [n, n]);
    this.upper = store.zeros(`${name}.upper`, [n, n]);
    this.logs = store.zeros(`${name}.logs`, [n]);
    assignValues(this.lower, init.lower);
    assignValues(this.upper, init.upper);
    assignValues(this.logs, init.logs);
    const perm = fixed.perm && fixed.perm.some((p, i) => p !== i) ? [...fixed.perm] : null;
    if (perm && (perm.length !== n || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)))
      throw new RangeError(`${name}: perm must be a permutation of 0..${n - 1}`);
    const sign = fixed.sign && fixed.sign.some((s) => s !== 1) ? [...fixed.sign] : null;
    if (sign && (sign.length !== n || sign.some((s) => s !== 1 && s !== -1)))
      throw new RangeError(`${name}: sign must hold ${n} entries of ±1`);
    this.perm = perm;
    this.sign = sign;
  }

  /** W = P·L·U' as a [C, C] tensor (differentiable in lower, upper, logs). */
  weight(): tf.Tensor2D {
    const n = this.channels;
    const { lowerMask, upperMask, eye } = luConstants(n);
    return tf.tidy(() => {
      const l = tf.add(tf.mul(this.lower, lowerMask), eye);
      let s = tf.exp(this.logs);
      if (this.sign) s = tf.mul(s, tf.tensor1d(this.sign));
      const u = tf.add(tf.mul(this.upper, upperMask), tf.mul(eye, s.reshape([1, n])));
      const lu = tf.matMul(l, u);
      return (this.perm ? tf.gather(lu, tf.tensor1d(this.perm, 'int32')) : lu) as tf.Tensor2D;
    });
  }

  /** The parts in float64, read from the current parameter values. */
  factors64(): { p: Matrix; l: Matrix; u: Matrix } {
    const n = this.channels;
    const lower = this.lower.dataSync();
    const upper = this.upper.dataSync();
    const logs = this.logs.dataSync();
    const l = identity(n);
    const u = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (j < i) l[i * n + j] = lower[i * n + j]!;
        if (j > i) u[i * n + j] = upper[i * n + j]!;
      }
    for (let i = 0; i < n; i++) u[i * n + i] = (this.sign?.[i] ?? 1) * Math.exp(logs[i]!);
    const p = permutationMatrix(this.perm ?? Array.from({ length: n }, (_, i) => i));
    return { p, l, u };
  }

  /** W in float64. */
  weight64(): Matrix {
    const { p, l, u } = this.factors64();
    return matMul(p, matMul(l, u, this.channels), this.channels);
  }

  /** W⁻¹ = U'⁻¹·L⁻¹·Pᵀ in float64 (triangular inverses: no pivoting needed, exact to rounding). */
  weightInverse64(): Matrix {
    const n = this.channels;
    const { p, l, u } = this.factors64();
    return matMul(matMul(invertUpper(u, n), invertUnitLower(l, n), n), transpose(p, n), n);
  }

  /** log|det W| = Σ logs, per pixel. */
  logdetPerPixel(): tf.Scalar {
    return tf.sum(this.logs) as tf.Scalar;
  }

  forward(x: tf.Tensor4D): { y: tf.Tensor4D; logdet: tf.Scalar } {
    const [b, h, w, c] = x.shape;
    return tf.tidy(() => ({
      y: dense(x.reshape([b * h * w, c]), this.weight()).reshape([b, h, w, c]) as tf.Tensor4D,
      logdet: tf.mul(this.logdetPerPixel(), h * w) as tf.Scalar,
    }));
  }

  inverse(y: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = y.shape;
    const inv = tf.tensor2d(Float32Array.from(this.weightInverse64()), [c, c]);
    const x = tf.tidy(() => tf.matMul(y.reshape([b * h * w, c]), inv).reshape([b, h, w, c]) as tf.Tensor4D);
    inv.dispose();
    return x;
  }
}
