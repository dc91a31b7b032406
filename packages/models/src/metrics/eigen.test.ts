import { describe, expect, it } from 'vitest';
import { Rng } from '../rng.ts';
import { symmetricEigen, symmetricEigenvalues, type EigenMethod } from './eigen.ts';
import { matMul, sqrtPsd } from './matrix.ts';
import { randomSpd } from './testing-helpers.ts';

function transpose(a: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j]!;
  return t;
}

function reconstruct(values: Float64Array, vectors: Float64Array, n: number): Float64Array {
  const scaled = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) scaled[i * n + k] = vectors[i * n + k]! * values[k]!;
  return matMul(scaled, transpose(vectors, n), n);
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function identity(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

function randomSymmetric(rng: Rng, n: number): Float64Array {
  const b = rng.normalArray(n * n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (b[i * n + j]! + b[j * n + i]!) / 2;
  return a;
}

describe.each(['jacobi', 'householder-ql'] as EigenMethod[])('symmetricEigen (%s)', { timeout: 60_000 }, (method) => {
  it.each([1, 2, 7, 40, 150])('reconstructs A = VΛVᵀ with orthonormal V for a random n×n matrix, n = %i', (n) => {
    const a = randomSymmetric(new Rng(n), n);
    const { values, vectors } = symmetricEigen(a, n, method);
    expect(maxAbs(reconstruct(values, vectors, n), a)).toBeLessThan(1e-12 * n);
    expect(maxAbs(matMul(transpose(vectors, n), vectors, n), identity(n))).toBeLessThan(1e-13 * n);
    for (let k = 1; k < n; k++) expect(values[k]!).toBeGreaterThanOrEqual(values[k - 1]!);
  });

  it('matches the closed form of a 2×2 matrix', () => {
    const [p, q, r] = [3, 1.5, -2];
    const { values } = symmetricEigen([p, q, q, r], 2, method);
    const mid = (p + r) / 2;
    const radius = Math.sqrt(((p - r) / 2) ** 2 + q * q);
    expect(values[0]).toBeCloseTo(mid - radius, 14);
    expect(values[1]).toBeCloseTo(mid + radius, 14);
  });

  it('handles repeated eigenvalues and a rotated diagonal', () => {
    const n = 5;
    const q = symmetricEigen(randomSymmetric(new Rng(99), n), n).vectors; // a random orthogonal matrix
    const d = [2, 2, 5, -1, 2];
    const diag = new Float64Array(n * n);
    d.forEach((v, i) => (diag[i * n + i] = v));
    const a = matMul(matMul(q, diag, n), transpose(q, n), n);
    const { values, vectors } = symmetricEigen(a, n, method);
    expect(maxAbs(values, [-1, 2, 2, 2, 5])).toBeLessThan(1e-13);
    expect(maxAbs(reconstruct(values, vectors, n), a)).toBeLessThan(1e-13);
    expect(Array.from(symmetricEigen(identity(4), 4, method).values)).toEqual([1, 1, 1, 1]);
  });

  it('finds the zero eigenvalues of a rank-deficient PSD matrix, and sqrtPsd squares back', () => {
    const n = 10;
    const x = new Rng(4).normalArray(n * 3);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) for (let k = 0; k < 3; k++) a[i * n + j]! += x[i * 3 + k]! * x[j * 3 + k]!;
    const { values } = symmetricEigen(a, n, method);
    for (let k = 0; k < 7; k++) expect(Math.abs(values[k]!)).toBeLessThan(1e-12);
    expect(values[7]!).toBeGreaterThan(0.1);
    const root = sqrtPsd(a, n);
    expect(maxAbs(matMul(root, root, n), a)).toBeLessThan(1e-12);
    const spd = randomSpd(new Rng(5), 12);
    const spdRoot = sqrtPsd(spd, 12);
    expect(maxAbs(matMul(spdRoot, spdRoot, 12), spd)).toBeLessThan(1e-13);
  });

  it('rejects bad input with a clear message', () => {
    expect(() => symmetricEigen([1, 2, 3], 2)).toThrow(/expected 4 entries for 2×2/);
    expect(() => symmetricEigen([1, Number.NaN, Number.NaN, 1], 2)).toThrow(/not finite/);
  });
});

describe('symmetricEigen methods agree', { timeout: 60_000 }, () => {
  it('on the eigenvalues of a 200×200 covariance-like matrix', () => {
    const n = 200;
    const a = randomSpd(new Rng(8), n, 1e-6);
    const jacobi = symmetricEigen(a, n, 'jacobi').values;
    const ql = symmetricEigen(a, n, 'householder-ql').values;
    expect(maxAbs(jacobi, ql)).toBeLessThan(1e-12 * jacobi[n - 1]!);
    const valuesOnly = symmetricEigenvalues(a, n, 'householder-ql');
    expect(maxAbs(valuesOnly, ql)).toBeLessThan(1e-12 * jacobi[n - 1]!);
  });
});
