import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { InitRng } from '../nn/init.ts';
import { ParamStore } from '../nn/params.ts';
import { Rng } from '../rng.ts';
import { ActNorm, assignValues } from './actnorm.ts';
import { Coupling } from './coupling.ts';
import {
  actnormRef,
  bruteForceLogDet,
  channelMatMulRef,
  couplingRef,
  squeezeRef,
  type CouplingParams,
} from './float64-reference.ts';
import { FlowStep } from './flow-step.ts';
import { InvConv1x1 } from './invconv.ts';
import {
  identity,
  invert,
  logAbsDet,
  luDecompose,
  matMul,
  permutationMatrix,
  randomOrthogonal,
  transpose,
} from './linalg.ts';
import { gaussianLogProb } from './prior.ts';
import { squeeze2d, unsqueeze2d } from './squeeze.ts';

/**
 * Every layer of the flow: f⁻¹(f(x)) = x, and its log-determinant against log|det J| of a central-difference
 * Jacobian of an independent float64 re-implementation (float64-reference.ts), on a tiny 1×2×2×4 input.
 * Tolerances (float32 layers, inputs and parameters of order 1): inverse max |error| ≤ 1e-5 per layer;
 * log-det within 1e-4 absolute of the float64 value; forward pass within 1e-5 of the float64 reference.
 */
const INVERSE_TOL = 1e-5;
const LOGDET_TOL = 1e-4;
const FORWARD_TOL = 1e-5;

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Moves every parameter off its (often trivial) initial value: random N(0, scale²) added. */
function perturb(store: ParamStore, seed: number, scale = 0.3): void {
  const rng = new Rng(seed);
  for (const v of store.variables.values()) {
    const d = v.dataSync();
    assignValues(
      v,
      Float32Array.from(rng.normalArray(v.size), (n, i) => d[i]! + n * scale),
    );
  }
}

const values = (t: tf.Tensor): Float64Array => Float64Array.from(t.dataSync());

function normalInput(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  return new Rng(seed).normal(shape) as tf.Tensor4D;
}

function couplingParams(store: ParamStore, name: string, kind: 'affine' | 'additive', hidden: number): CouplingParams {
  const v = (n: string) => store.variables.get(`${name}.${n}`)!.dataSync();
  return {
    kind,
    hidden,
    conv1: { kernel: v('conv1.kernel'), bias: v('conv1.bias') },
    conv2: { kernel: v('conv2.kernel'), bias: v('conv2.bias') },
    out: { kernel: v('out.kernel'), bias: v('out.bias') },
  };
}

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

describe('float64 linear algebra', () => {
  it('LU with pivoting reconstructs A = P·L·U, inverts, and gives log|det|', () => {
    const n = 7;
    const rng = new Rng(3);
    const a = Float64Array.from(rng.normalArray(n * n));
    const { perm, lower, upper } = luDecompose(a, n);
    const back = matMul(permutationMatrix(perm), matMul(lower, upper, n), n);
    expect(maxAbsDiff(back, a)).toBeLessThan(1e-12);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (j > i) expect(lower[i * n + j]).toBe(0);
        if (j < i) expect(upper[i * n + j]).toBe(0);
        expect(Math.abs(lower[i * n + j]!)).toBeLessThanOrEqual(1);
      }
    expect(maxAbsDiff(matMul(invert(a, n), a, n), identity(n))).toBeLessThan(1e-12);
    // det of a triangular matrix is the product of its diagonal.
    const tri = Float64Array.from(upper);
    let expected = 0;
    for (let i = 0; i < n; i++) expected += Math.log(Math.abs(tri[i * n + i]!));
    expect(logAbsDet(tri, n).logAbsDet).toBeCloseTo(expected, 12);
    // and is invariant to row permutations in absolute value.
    expect(logAbsDet(a, n).logAbsDet).toBeCloseTo(expected, 10);
  });

  it('random rotations are orthogonal', () => {
    const n = 12;
    const rng = new Rng(9);
    const q = randomOrthogonal(n, () => rng.normalArray(1)[0]!);
    expect(maxAbsDiff(matMul(transpose(q, n), q, n), identity(n))).toBeLessThan(1e-12);
  });
});

describe('actnorm', () => {
  it('data-dependent init gives zero mean and unit variance per channel', () => {
    const store = new ParamStore(0);
    const layer = new ActNorm(store, 'an', 4);
    // Channels with very different means and scales.
    const x = tf.tidy(() => tf.add(tf.mul(normalInput([16, 4, 4, 4], 1), [0.1, 1, 5, 30]), [3, -2, 0, 100]));
    layer.initFrom(x as tf.Tensor4D);
    const { y } = layer.forward(x as tf.Tensor4D);
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    for (const m of mean.dataSync()) expect(Math.abs(m)).toBeLessThan(1e-5);
    for (const v of variance.dataSync()) expect(Math.abs(v - 1)).toBeLessThan(1e-4);
    tf.dispose([x, y, mean, variance]);
  });

  it('inverts and its log-det H·W·Σlogs matches the brute-force Jacobian', () => {
    const store = new ParamStore(0);
    const layer = new ActNorm(store, 'an', 4);
    perturb(store, 2);
    const x = normalInput([1, 2, 2, 4], 3);
    const { y, logdet } = layer.forward(x);
    const back = layer.inverse(y);
    expect(maxAbsDiff(back.dataSync(), x.dataSync())).toBeLessThan(INVERSE_TOL);
    const ref = (v: Float64Array) => actnormRef(v, 4, layer.bias.dataSync(), layer.logs.dataSync());
    expect(maxAbsDiff(y.dataSync(), ref(values(x)))).toBeLessThan(FORWARD_TOL);
    expect(Math.abs(logdet.dataSync()[0]! - bruteForceLogDet(ref, values(x)))).toBeLessThan(LOGDET_TOL);
    tf.dispose([x, y, logdet, back]);
  });
});

describe('invertible 1×1 convolution (LU form)', () => {
  it('its weight equals P·L·U computed in float64, for a non-trivial P and sign(s)', () => {
    const n = 6;
    const store = new ParamStore(0);
    const layer = new InvConv1x1(store, 'inv', n, new InitRng(1), {
      perm: [2, 0, 5, 1, 4, 3],
      sign: [1, -1, 1, 1, -1, 1],
    });
    perturb(store, 4);
    const lower = layer.lower.dataSync();
    const upper = layer.upper.dataSync();
    const logs = layer.logs.dataSync();
    const l = identity(n);
    const u = new Float64Array(n * n);
    const sign = [1, -1, 1, 1, -1, 1];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (j < i) l[i * n + j] = lower[i * n + j]!;
        if (j > i) u[i * n + j] = upper[i * n + j]!;
        if (i === j) u[i * n + j] = sign[i]! * Math.exp(logs[i]!);
      }
    const want = matMul(permutationMatrix([2, 0, 5, 1, 4, 3]), matMul(l, u, n), n);
    const w = layer.weight();
    expect(maxAbsDiff(w.dataSync(), want)).toBeLessThan(1e-5);
    // log|det W| = Σ logs: P and L contribute nothing, U its diagonal.
    const sumLogs = Array.from(logs).reduce((a, b) => a + b, 0);
    expect(logAbsDet(want, n).logAbsDet).toBeCloseTo(sumLogs, 10);
    w.dispose();
  });

  it('starts as a random rotation with P = I and sign(s) = +1, |L| ≤ 1', () => {
    const n = 12;
    const store = new ParamStore(0);
    const layer = new InvConv1x1(store, 'inv', n, new InitRng(5));
    expect(layer.perm).toBeNull();
    expect(layer.sign).toBeNull();
    const w = layer.weight64();
    expect(maxAbsDiff(matMul(transpose(w, n), w, n), identity(n))).toBeLessThan(1e-6);
    for (const v of layer.lower.dataSync()) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    expect(Math.abs(Array.from(layer.logs.dataSync()).reduce((a, b) => a + b, 0))).toBeLessThan(1e-5);
    // Two layers from the same generator are different rotations.
    const other = new InvConv1x1(new ParamStore(0), 'inv', n, new InitRng(6));
    expect(maxAbsDiff(other.weight64(), w)).toBeGreaterThan(0.1);
  });

  it('inverts (float64 W⁻¹) and its log-det H·W·Σlogs matches the brute-force Jacobian', () => {
    const store = new ParamStore(0);
    const layer = new InvConv1x1(store, 'inv', 4, new InitRng(2), { perm: [3, 1, 0, 2], sign: [-1, 1, 1, 1] });
    perturb(store, 5);
    const x = normalInput([1, 2, 2, 4], 6);
    const { y, logdet } = layer.forward(x);
    const back = layer.inverse(y);
    expect(maxAbsDiff(back.dataSync(), x.dataSync())).toBeLessThan(INVERSE_TOL);
    const w = layer.weight64();
    const ref = (v: Float64Array) => channelMatMulRef(v, 4, w, 4, 4);
    expect(maxAbsDiff(y.dataSync(), ref(values(x)))).toBeLessThan(FORWARD_TOL);
    expect(Math.abs(logdet.dataSync()[0]! - bruteForceLogDet(ref, values(x)))).toBeLessThan(LOGDET_TOL);
    tf.dispose([x, y, logdet, back]);
  });
});

describe('coupling', () => {
  for (const kind of ['affine', 'additive'] as const) {
    it(`${kind}: inverts and its log-det matches the brute-force Jacobian`, () => {
      const store = new ParamStore(3);
      const layer = new Coupling(store, 'cp', 4, 8, kind);
      perturb(store, 7);
      const x = normalInput([1, 2, 2, 4], 8);
      const { y, logdet } = layer.forward(x);
      const back = layer.inverse(y);
      expect(maxAbsDiff(back.dataSync(), x.dataSync())).toBeLessThan(INVERSE_TOL);
      const p = couplingParams(store, 'cp', kind, 8);
      const ref = (v: Float64Array) => couplingRef(v, { h: 2, w: 2, c: 4 }, p);
      expect(maxAbsDiff(y.dataSync(), ref(values(x)))).toBeLessThan(FORWARD_TOL);
      const brute = bruteForceLogDet(ref, values(x));
      const got = logdet ? logdet.dataSync()[0]! : 0;
      expect(Math.abs(got - brute)).toBeLessThan(LOGDET_TOL);
      // The affine coupling really scales (a log-det of 0 would pass trivially).
      if (kind === 'affine') expect(Math.abs(brute)).toBeGreaterThan(0.1);
      tf.dispose([x, y, back, ...(logdet ? [logdet] : [])]);
    });
  }

  it('a new coupling is the identity (additive) or scales x2 by σ(2) (affine): the last conv starts at zero', () => {
    const x = normalInput([2, 4, 4, 6], 9);
    const additive = new Coupling(new ParamStore(1), 'a', 6, 8, 'additive');
    expect(maxAbsDiff(additive.forward(x).y.dataSync(), x.dataSync())).toBe(0);
    const affine = new Coupling(new ParamStore(1), 'b', 6, 8, 'affine');
    const { y, logdet } = affine.forward(x);
    const s = 1 / (1 + Math.exp(-2));
    const want = tf.tidy(() =>
      tf.concat([x.slice([0, 0, 0, 0], [-1, -1, -1, 3]), tf.mul(x.slice([0, 0, 0, 3], [-1, -1, -1, 3]), s)], 3),
    );
    expect(maxAbsDiff(y.dataSync(), want.dataSync())).toBeLessThan(1e-6);
    expect(logdet!.dataSync()[0]).toBeCloseTo(4 * 4 * 3 * Math.log(s), 3);
    tf.dispose([x, y, logdet!, want]);
  });
});

describe('squeeze', () => {
  it('is the reference space-to-depth permutation, inverts exactly, log-det 0', () => {
    const x = normalInput([1, 4, 4, 2], 10);
    const y = squeeze2d(x);
    expect(y.shape).toEqual([1, 2, 2, 8]);
    expect(maxAbsDiff(y.dataSync(), squeezeRef(values(x), { h: 4, w: 4, c: 2 }))).toBe(0);
    expect(maxAbsDiff(unsqueeze2d(y).dataSync(), x.dataSync())).toBe(0);
    expect(bruteForceLogDet((v) => squeezeRef(v, { h: 4, w: 4, c: 2 }), values(x))).toBeCloseTo(0, 8);
    tf.dispose([x, y]);
  });
});

describe('flow step', () => {
  it('its fused actnorm·1×1-conv equals the layers applied one by one, inverts, log-det = brute force', () => {
    const store = new ParamStore(4);
    const step = new FlowStep(store, 's', 4, 8, 'affine', new InitRng(3));
    perturb(store, 11);
    const x = normalInput([1, 2, 2, 4], 12);
    const { y, logdet } = step.forward(x);
    const a = step.actnorm.forward(x);
    const b = step.invconv.forward(a.y);
    const c = step.coupling.forward(b.y);
    expect(maxAbsDiff(y.dataSync(), c.y.dataSync())).toBeLessThan(FORWARD_TOL);
    const sumParts = a.logdet.dataSync()[0]! + b.logdet.dataSync()[0]! + c.logdet!.dataSync()[0]!;
    expect(Math.abs(logdet.dataSync()[0]! - sumParts)).toBeLessThan(1e-5);
    const back = step.inverse(y);
    expect(maxAbsDiff(back.dataSync(), x.dataSync())).toBeLessThan(INVERSE_TOL);
    const w = step.invconv.weight64();
    const p = couplingParams(store, 's.coupling', 'affine', 8);
    const ref = (v: Float64Array) =>
      couplingRef(
        channelMatMulRef(actnormRef(v, 4, step.actnorm.bias.dataSync(), step.actnorm.logs.dataSync()), 4, w, 4, 4),
        { h: 2, w: 2, c: 4 },
        p,
      );
    expect(Math.abs(logdet.dataSync()[0]! - bruteForceLogDet(ref, values(x)))).toBeLessThan(LOGDET_TOL);
    tf.dispose([x, y, logdet, a.y, a.logdet, b.y, b.logdet, c.y, c.logdet!, back]);
  });
});

describe('Gaussian prior', () => {
  it('log-density matches the float64 formula', () => {
    const z = normalInput([2, 2, 2, 3], 13);
    const mean = normalInput([2, 2, 2, 3], 14);
    const logs = tf.mul(normalInput([2, 2, 2, 3], 15), 0.5) as tf.Tensor4D;
    const got = gaussianLogProb(z, { mean, logs }).dataSync();
    const [zv, mv, lv] = [z.dataSync(), mean.dataSync(), logs.dataSync()];
    for (let b = 0; b < 2; b++) {
      let want = 0;
      for (let i = b * 12; i < (b + 1) * 12; i++)
        want += -0.5 * Math.log(2 * Math.PI) - lv[i]! - 0.5 * ((zv[i]! - mv[i]!) / Math.exp(lv[i]!)) ** 2;
      expect(got[b]).toBeCloseTo(want, 4);
    }
    tf.dispose([z, mean, logs]);
  });
});
