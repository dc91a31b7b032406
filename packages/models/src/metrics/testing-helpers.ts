import { Rng } from '../rng.ts';

/** n samples (row-major n×d) of N(mean, L·Lᵀ) drawn with our Rng; `cholesky` is lower-triangular d×d. */
export function sampleGaussian(rng: Rng, n: number, mean: number[], cholesky: number[]): Float64Array {
  const d = mean.length;
  const z = rng.normalArray(n * d);
  const out = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) {
      let v = mean[i]!;
      for (let k = 0; k <= i; k++) v += cholesky[i * d + k]! * z[r * d + k]!;
      out[r * d + i] = v;
    }
  }
  return out;
}

/** Lower-triangular Cholesky factor of a symmetric positive definite d×d matrix. */
export function cholesky(a: ArrayLike<number>, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * d + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * d + k]! * l[j * d + k]!;
      l[i * d + j] = i === j ? Math.sqrt(sum) : sum / l[j * d + j]!;
    }
  }
  return l;
}

/** A random symmetric positive definite d×d matrix: B·Bᵀ/d + εI. */
export function randomSpd(rng: Rng, d: number, epsilon = 0.1): Float64Array {
  const b = rng.normalArray(d * d);
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += b[i * d + k]! * b[j * d + k]!;
      out[i * d + j] = s / d + (i === j ? epsilon : 0);
    }
  }
  return out;
}
