/**
 * Symmetric eigendecomposition in float64. The reference method is cyclic Jacobi rotations (the
 * Numerical Recipes variant: thresholded first sweeps, negligible elements zeroed, diagonal updates
 * accumulated separately to limit rounding): unconditionally stable and accurate on small eigenvalues,
 * which a matrix square root of a near-singular covariance needs, but O(n³) per sweep with ~6–10
 * sweeps. Large matrices go to Householder + QL (eigen-ql.ts).
 */
import { symmetricEigenQl } from './eigen-ql.ts';

export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** Eigenvectors as columns of a row-major n×n matrix: vectors[i*n + k] is component i of vector k. */
  vectors: Float64Array;
}

const MAX_SWEEPS = 100;

export type EigenMethod = 'jacobi' | 'householder-ql' | 'auto';

/** Above this size 'auto' switches from Jacobi to Householder + QL (Jacobi costs ~1.5 s at n = 256 here). */
export const JACOBI_MAX_AUTO_SIZE = 128;

/**
 * Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix (its symmetric part is
 * used). `method` 'auto' (default) uses Jacobi up to n = 128 and Householder + QL above.
 */
export function symmetricEigen(
  matrix: Float64Array | number[],
  n: number,
  method: EigenMethod = 'auto',
): SymmetricEigen {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`symmetricEigen: n must be a positive integer, got ${n}`);
  if (matrix.length !== n * n)
    throw new RangeError(`symmetricEigen: expected ${n * n} entries for ${n}×${n}, got ${matrix.length}`);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const value = (matrix[i * n + j]! + matrix[j * n + i]!) / 2; // use the symmetric part
      if (!Number.isFinite(value)) throw new RangeError(`symmetricEigen: entry (${i}, ${j}) is not finite`);
      a[i * n + j] = value;
    }
  }
  if (method === 'householder-ql' || (method === 'auto' && n > JACOBI_MAX_AUTO_SIZE)) return symmetricEigenQl(a, n);
  if (method !== 'jacobi' && method !== 'auto')
    throw new RangeError(`symmetricEigen: method must be 'jacobi', 'householder-ql' or 'auto', got ${String(method)}`);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const d = new Float64Array(n);
  const b = new Float64Array(n);
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = b[i] = a[i * n + i]!;

  const rotate = (m: Float64Array, i: number, j: number, k: number, l: number, s: number, tau: number) => {
    const g = m[i * n + j]!;
    const h = m[k * n + l]!;
    m[i * n + j] = g - s * (h + g * tau);
    m[k * n + l] = h + s * (g - h * tau);
  };

  for (let sweep = 1; sweep <= MAX_SWEEPS; sweep++) {
    let offDiagonal = 0;
    for (let p = 0; p < n - 1; p++) for (let q = p + 1; q < n; q++) offDiagonal += Math.abs(a[p * n + q]!);
    if (offDiagonal === 0) return sorted(d, v, n);
    const threshold = sweep < 4 ? (0.2 * offDiagonal) / (n * n) : 0;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        const g = 100 * Math.abs(apq);
        if (sweep > 4 && Math.abs(d[p]!) + g === Math.abs(d[p]!) && Math.abs(d[q]!) + g === Math.abs(d[q]!)) {
          a[p * n + q] = 0;
        } else if (Math.abs(apq) > threshold) {
          let h = d[q]! - d[p]!;
          let t: number;
          if (Math.abs(h) + g === Math.abs(h)) {
            t = apq / h;
          } else {
            const theta = (0.5 * h) / apq;
            t = 1 / (Math.abs(theta) + Math.sqrt(1 + theta * theta));
            if (theta < 0) t = -t;
          }
          const c = 1 / Math.sqrt(1 + t * t);
          const s = t * c;
          const tau = s / (1 + c);
          h = t * apq;
          z[p]! -= h;
          z[q]! += h;
          d[p]! -= h;
          d[q]! += h;
          a[p * n + q] = 0;
          for (let j = 0; j < p; j++) rotate(a, j, p, j, q, s, tau);
          for (let j = p + 1; j < q; j++) rotate(a, p, j, j, q, s, tau);
          for (let j = q + 1; j < n; j++) rotate(a, p, j, q, j, s, tau);
          for (let j = 0; j < n; j++) rotate(v, j, p, j, q, s, tau);
        }
      }
    }
    for (let p = 0; p < n; p++) {
      b[p]! += z[p]!;
      d[p] = b[p]!;
      z[p] = 0;
    }
  }
  throw new Error(`symmetricEigen: Jacobi did not converge in ${MAX_SWEEPS} sweeps (n = ${n})`);
}

function sorted(d: Float64Array, v: Float64Array, n: number): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[i]! - d[j]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    values[to] = d[from]!;
    for (let i = 0; i < n; i++) vectors[i * n + to] = v[i * n + from]!;
  });
  return { values, vectors };
}

/** Eigenvalues only (ascending); skips the eigenvectors where the method allows (Householder + QL). */
export function symmetricEigenvalues(
  matrix: Float64Array | number[],
  n: number,
  method: EigenMethod = 'auto',
): Float64Array {
  if (method === 'householder-ql' || (method === 'auto' && n > JACOBI_MAX_AUTO_SIZE)) {
    if (matrix.length !== n * n)
      throw new RangeError(`symmetricEigenvalues: expected ${n * n} entries for ${n}×${n}, got ${matrix.length}`);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const value = (matrix[i * n + j]! + matrix[j * n + i]!) / 2;
        if (!Number.isFinite(value)) throw new RangeError(`symmetricEigenvalues: entry (${i}, ${j}) is not finite`);
        a[i * n + j] = value;
      }
    }
    return symmetricEigenQl(a, n, false).values;
  }
  return symmetricEigen(matrix, n, method).values;
}
