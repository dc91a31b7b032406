import { describe, expect, it } from 'vitest';
import { Rng } from '../rng.ts';
import { symmetricEigen } from './eigen.ts';
import { fid, frechetDistance } from './fid.ts';
import { matMul } from './matrix.ts';
import { FeatureMoments, gaussianStats } from './moments.ts';
import { cholesky, randomSpd, sampleGaussian } from './testing-helpers.ts';

function transpose(a: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j]!;
  return t;
}

function diag(values: number[]): Float64Array {
  const n = values.length;
  const out = new Float64Array(n * n);
  values.forEach((v, i) => (out[i * n + i] = v));
  return out;
}

const gaussian = (mean: number[], cov: Float64Array) => ({ dims: mean.length, mean: Float64Array.from(mean), cov });

describe('frechetDistance', { timeout: 60_000 }, () => {
  it('equals the closed form for diagonal covariances', () => {
    // ||Δμ||² = 1 + 4 + 0 = 5; Σ (√a − √b)² = (1 − 2)² + (2 − 1)² + 0 = 2
    const d = frechetDistance(gaussian([0, 0, 1], diag([1, 4, 9])), gaussian([1, 2, 1], diag([4, 1, 9])));
    expect(d).toBeCloseTo(7, 12);
  });

  it('equals the closed form for commuting non-diagonal covariances (shared eigenvectors)', () => {
    const n = 6;
    const q = symmetricEigen(randomSpd(new Rng(1), n), n).vectors;
    const d1 = [0.5, 1, 2, 3, 4, 0.01];
    const d2 = [2, 1, 0.5, 3, 9, 0.04];
    const rotate = (d: number[]) => matMul(matMul(q, diag(d), n), transpose(q, n), n);
    const mu1 = [1, 2, 3, 4, 5, 6];
    const mu2 = [1, 2, 3, 4, 5, 7];
    let expected = 1;
    for (let i = 0; i < n; i++) expected += (Math.sqrt(d1[i]!) - Math.sqrt(d2[i]!)) ** 2;
    expect(frechetDistance(gaussian(mu1, rotate(d1)), gaussian(mu2, rotate(d2)))).toBeCloseTo(expected, 11);
  });

  it('equals the closed form for non-commuting 2×2 covariances', () => {
    // For 2×2 M = Σ1Σ2 with eigenvalues λ1, λ2 ≥ 0: (√λ1 + √λ2)² = tr M + 2√det M.
    const s1 = [2, 0.8, 0.8, 1];
    const s2 = [1, -0.3, -0.3, 3];
    const m = [s1[0]! * s2[0]! + s1[1]! * s2[2]!, 0, 0, s1[2]! * s2[1]! + s1[3]! * s2[3]!];
    const det = (a: number[]) => a[0]! * a[3]! - a[1]! * a[2]!;
    const trSqrt = Math.sqrt(m[0]! + m[3]! + 2 * Math.sqrt(det(s1) * det(s2)));
    const expected = 0.5 ** 2 + 3 + 4 - 2 * trSqrt;
    expect(
      frechetDistance(gaussian([0, 0], Float64Array.from(s1)), gaussian([0.5, 0], Float64Array.from(s2))),
    ).toBeCloseTo(expected, 12);
  });

  it('agrees with tr √(LᵀΣ2L) (Σ1 = LLᵀ) for random 8×8 covariances', () => {
    const n = 8;
    const s1 = randomSpd(new Rng(2), n);
    const s2 = randomSpd(new Rng(3), n);
    const l = cholesky(s1, n);
    const { values } = symmetricEigen(matMul(matMul(transpose(l, n), s2, n), l, n), n);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += s1[i * n + i]! + s2[i * n + i]!;
    const expected = trace - 2 * values.reduce((acc, v) => acc + Math.sqrt(Math.max(v, 0)), 0);
    const zero = new Array<number>(n).fill(0);
    expect(frechetDistance(gaussian(zero, s1), gaussian(zero, s2))).toBeCloseTo(expected, 10);
  });

  it('matches the closed form from samples of two known Gaussians, and is 0 for a set against itself', () => {
    const rng = new Rng(10);
    const s1 = [1, 0.5, 0, 0.5, 2, 0.3, 0, 0.3, 0.5];
    const s2 = [2, -0.4, 0.1, -0.4, 1, 0, 0.1, 0, 1.5];
    const mu1 = [0, 1, -1];
    const mu2 = [0.5, 1, 0];
    const a = sampleGaussian(rng, 40_000, mu1, Array.from(cholesky(s1, 3)));
    const b = sampleGaussian(rng, 40_000, mu2, Array.from(cholesky(s2, 3)));
    const exact = frechetDistance(gaussian(mu1, Float64Array.from(s1)), gaussian(mu2, Float64Array.from(s2)));
    expect(Math.abs(fid(a, b, 3) / exact - 1)).toBeLessThan(0.03);
    expect(fid(a, a, 3)).toBeLessThan(1e-10);
  });

  it('from fewer rows than dims (computed in the rows’ space) equals the distance of the covariances', () => {
    // Correlated, non-centred features as an extractor gives them; row counts equal, unequal either way, tiny.
    const rng = new Rng(12);
    const dims = 48;
    const mix = Float64Array.from(rng.normalArray(dims * dims), (v) => v / Math.sqrt(dims));
    const features = (rows: number, shift: number) => {
      const out = new Float32Array(rows * dims);
      for (let r = 0; r < rows; r++) {
        const z = rng.normalArray(dims);
        for (let j = 0; j < dims; j++) {
          let v = shift + j / dims;
          for (let t = 0; t < dims; t++) v += z[t]! * mix[t * dims + j]!;
          out[r * dims + j] = Math.max(0, v); // ReLU features: many exact zeros
        }
      }
      return out;
    };
    for (const [rowsA, rowsB] of [
      [20, 20],
      [12, 30],
      [30, 12],
      [2, 3],
    ] as const) {
      const a = features(rowsA, 0.2);
      const b = features(rowsB, 0.5);
      const viaCovariances = frechetDistance(gaussianStats(a, dims), gaussianStats(b, dims));
      // Not to 1e-12: of a rank-deficient covariance's d eigenvalues, d − rows are rounding noise (~1e-15), and the
      // covariance path adds their square roots (~3e-8 each); the rows' path never forms them.
      expect(Math.abs(fid(a, b, dims) - viaCovariances), `${rowsA}×${rowsB}`).toBeLessThan(1e-7 * viaCovariances);
    }
    const a = features(10, 0);
    expect(fid(a, a, dims)).toBeLessThan(1e-9);
    expect(() => fid(a.subarray(0, dims), a, dims)).toThrow(/at least 2 feature rows/);
  });

  it('rejects mismatched dimensions', () => {
    expect(() => frechetDistance(gaussian([0], diag([1])), gaussian([0, 0], diag([1, 1])))).toThrow(/dims differ/);
  });
});

describe('FeatureMoments', () => {
  it('streams batches to the same statistics and stays accurate with large means', () => {
    const rng = new Rng(6);
    const x = sampleGaussian(rng, 1000, [1e6, -1e6, 3], [1, 0, 0, 0.5, 2, 0, 0, 0, 0.1]);
    const whole = gaussianStats(x, 3);
    const streamed = new FeatureMoments(3)
      .add(x.subarray(0, 900))
      .add(x.subarray(900, 903))
      .add(x.subarray(903))
      .stats();
    for (let i = 0; i < 9; i++) expect(streamed.cov[i]).toBeCloseTo(whole.cov[i]!, 9);
    // Two-pass reference covariance.
    const mean = [0, 1, 2].map((j) => {
      let s = 0;
      for (let r = 0; r < 1000; r++) s += x[r * 3 + j]!;
      return s / 1000;
    });
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let c = 0;
        for (let r = 0; r < 1000; r++) c += (x[r * 3 + i]! - mean[i]!) * (x[r * 3 + j]! - mean[j]!);
        expect(whole.cov[i * 3 + j]).toBeCloseTo(c / 999, 8);
      }
    }
    expect(whole.count).toBe(1000);
    expect(() => new FeatureMoments(3).add([1, 2, 3]).stats()).toThrow(/at least 2/);
    expect(() => new FeatureMoments(3).add([1, 2])).toThrow(/multiple of dims 3/);
  });
});
