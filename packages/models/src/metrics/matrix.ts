import { symmetricEigen, symmetricEigenvalues } from './eigen.ts';

/** Small dense float64 helpers (row-major n×n) for the Fréchet distance. */
export function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[row + k]!;
      if (aik === 0) continue;
      const bRow = k * n;
      for (let j = 0; j < n; j++) out[row + j]! += aik * b[bRow + j]!;
    }
  }
  return out;
}

export function trace(a: Float64Array, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += a[i * n + i]!;
  return t;
}

/**
 * Square root of a symmetric positive semi-definite matrix: V·diag(√max(λ, 0))·Vᵀ. Eigenvalues that
 * rounding made slightly negative are treated as 0.
 */
export function sqrtPsd(a: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, n);
  // out = (V·diag(√λ))·Vᵀ as row·row dot products, so both reads are contiguous.
  const scaled = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) scaled[i * n + k] = vectors[i * n + k]! * Math.sqrt(Math.max(values[k]!, 0));
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += scaled[i * n + k]! * vectors[j * n + k]!;
      out[i * n + j] = sum;
      out[j * n + i] = sum;
    }
  }
  return out;
}

/** Aᵀ·B for row-major n×n matrices (rows of the result accumulate contiguous rows of B). */
export function matMulTransposeA(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let k = 0; k < n; k++) {
      const aki = a[k * n + i]!;
      if (aki === 0) continue;
      const bRow = k * n;
      for (let j = 0; j < n; j++) out[row + j]! += aki * b[bRow + j]!;
    }
  }
  return out;
}

/** tr √(A) for symmetric PSD A: Σ √max(λ, 0). */
export function traceSqrtPsd(a: Float64Array, n: number): number {
  const values = symmetricEigenvalues(a, n);
  let t = 0;
  for (const v of values) t += Math.sqrt(Math.max(v, 0));
  return t;
}
