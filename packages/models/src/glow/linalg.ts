/**
 * Small dense linear algebra in plain JS float64 for the invertible 1×1 convolution. TF.js has no float64,
 * determinant, LU or matrix inverse; the matrices here are c×c with c the channel count of one flow level
 * (≤ a few hundred), so JS is fast enough and exact to float64 rounding. Matrices are row-major
 * Float64Arrays of n·n entries.
 */

export type Matrix = Float64Array;

export function identity(n: number): Matrix {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

export function matMul(a: Matrix, b: Matrix, n: number): Matrix {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j]! += aik * b[k * n + j]!;
    }
  return out;
}

export function transpose(a: Matrix, n: number): Matrix {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[j * n + i] = a[i * n + j]!;
  return out;
}

/** Permutation matrix P with P[i, perm[i]] = 1, i.e. (P·x)[i] = x[perm[i]]. */
export function permutationMatrix(perm: readonly number[]): Matrix {
  const n = perm.length;
  const m = new Float64Array(n * n);
  perm.forEach((j, i) => (m[i * n + j] = 1));
  return m;
}

/**
 * A random orthogonal matrix: Householder QR of a matrix of standard normals, with the signs fixed so R
 * has a positive diagonal (then Q is Haar-distributed). `normal` yields N(0, 1) draws.
 */
export function randomOrthogonal(n: number, normal: () => number): Matrix {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) a[i] = normal();
  const q = identity(n);
  // Householder reflections H_k = I − 2vvᵀ applied to A from the left; Q = H_0·H_1·…·H_{n−2}.
  for (let k = 0; k < n - 1; k++) {
    let norm = 0;
    for (let i = k; i < n; i++) norm += a[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const alpha = a[k * n + k]! > 0 ? -norm : norm;
    const v = new Float64Array(n);
    for (let i = k; i < n; i++) v[i] = a[i * n + k]!;
    v[k]! -= alpha;
    let vnorm = 0;
    for (let i = k; i < n; i++) vnorm += v[i]! ** 2;
    if (vnorm === 0) continue;
    const scale = 2 / vnorm;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < n; i++) dot += v[i]! * a[i * n + j]!;
      for (let i = k; i < n; i++) a[i * n + j]! -= scale * dot * v[i]!;
    }
    // Q ← Q·H_k
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let j = k; j < n; j++) dot += q[i * n + j]! * v[j]!;
      for (let j = k; j < n; j++) q[i * n + j]! -= scale * dot * v[j]!;
    }
  }
  // A is now R; flip Q's columns where R's diagonal is negative.
  for (let j = 0; j < n; j++) if (a[j * n + j]! < 0) for (let i = 0; i < n; i++) q[i * n + j] = -q[i * n + j]!;
  return q;
}

export interface LuDecomposition {
  /** Row permutation: A = P·L·U with P = permutationMatrix(perm). */
  perm: number[];
  /** Unit lower-triangular. */
  lower: Matrix;
  /** Upper-triangular (diagonal included). */
  upper: Matrix;
}

/** LU with partial pivoting, A = P·L·U, |L_ij| ≤ 1. Throws on a singular matrix. */
export function luDecompose(a: Matrix, n: number): LuDecomposition {
  const u = Float64Array.from(a);
  const lower = identity(n);
  const rows = Array.from({ length: n }, (_, i) => i); // rows[i]: original row now at position i
  for (let k = 0; k < n; k++) {
    let pivot = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(u[i * n + k]!) > Math.abs(u[pivot * n + k]!)) pivot = i;
    if (u[pivot * n + k] === 0) throw new RangeError('luDecompose: the matrix is singular');
    if (pivot !== k) {
      for (let j = 0; j < n; j++) {
        [u[k * n + j], u[pivot * n + j]] = [u[pivot * n + j]!, u[k * n + j]!];
        if (j < k) [lower[k * n + j], lower[pivot * n + j]] = [lower[pivot * n + j]!, lower[k * n + j]!];
      }
      [rows[k], rows[pivot]] = [rows[pivot]!, rows[k]!];
    }
    for (let i = k + 1; i < n; i++) {
      const f = u[i * n + k]! / u[k * n + k]!;
      lower[i * n + k] = f;
      u[i * n + k] = 0;
      for (let j = k + 1; j < n; j++) u[i * n + j]! -= f * u[k * n + j]!;
    }
  }
  // P·L·U = A with (P·x)[i] = x[perm[i]]: row i of A is row perm⁻¹(i) of L·U, so perm is the inverse of rows.
  const perm = new Array<number>(n);
  rows.forEach((orig, pos) => (perm[orig] = pos));
  return { perm, lower, upper: u };
}

/** Inverse of a unit lower-triangular matrix (forward substitution on the identity). */
export function invertUnitLower(l: Matrix, n: number): Matrix {
  const inv = identity(n);
  for (let j = 0; j < n; j++)
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s += l[i * n + k]! * inv[k * n + j]!;
      inv[i * n + j] = -s;
    }
  return inv;
}

/** Inverse of an upper-triangular matrix with a non-zero diagonal (back substitution). */
export function invertUpper(u: Matrix, n: number): Matrix {
  const inv = new Float64Array(n * n);
  for (let j = n - 1; j >= 0; j--) {
    inv[j * n + j] = 1 / u[j * n + j]!;
    for (let i = j - 1; i >= 0; i--) {
      let s = 0;
      for (let k = i + 1; k <= j; k++) s += u[i * n + k]! * inv[k * n + j]!;
      inv[i * n + j] = -s / u[i * n + i]!;
    }
  }
  return inv;
}

/** General inverse through LU (for tests and the brute-force references). */
export function invert(a: Matrix, n: number): Matrix {
  const { perm, lower, upper } = luDecompose(a, n);
  // A⁻¹ = U⁻¹·L⁻¹·Pᵀ
  return matMul(matMul(invertUpper(upper, n), invertUnitLower(lower, n), n), transpose(permutationMatrix(perm), n), n);
}

/** log|det A| and the sign of det A, through LU. */
export function logAbsDet(a: Matrix, n: number): { logAbsDet: number; sign: number } {
  const { perm, upper } = luDecompose(a, n);
  let log = 0;
  let sign = permutationSign(perm);
  for (let i = 0; i < n; i++) {
    const d = upper[i * n + i]!;
    log += Math.log(Math.abs(d));
    if (d < 0) sign = -sign;
  }
  return { logAbsDet: log, sign };
}

function permutationSign(perm: readonly number[]): number {
  const seen = new Array<boolean>(perm.length).fill(false);
  let sign = 1;
  for (let i = 0; i < perm.length; i++) {
    if (seen[i]) continue;
    let len = 0;
    for (let j = i; !seen[j]; j = perm[j]!) {
      seen[j] = true;
      len += 1;
    }
    if (len % 2 === 0) sign = -sign;
  }
  return sign;
}
