import { symmetricEigen } from './eigen.ts';
import { matMul, matMulTransposeA, trace, traceSqrtPsd } from './matrix.ts';
import { gaussianStats, type GaussianStats } from './moments.ts';

/**
 * Fréchet distance between N(μ1, Σ1) and N(μ2, Σ2):
 *   ||μ1 − μ2||² + tr Σ1 + tr Σ2 − 2·tr √(Σ1^½ Σ2 Σ1^½)
 * Σ1^½ Σ2 Σ1^½ is symmetric PSD and has the eigenvalues of Σ1Σ2, so its trace square root is the
 * usual tr √(Σ1Σ2) without a non-symmetric sqrtm. With Σ1 = VΛVᵀ it is orthogonally similar to
 * Λ^½·(VᵀΣ2V)·Λ^½, which needs no explicit Σ1^½. All in float64.
 */
export function frechetDistance(
  a: Pick<GaussianStats, 'dims' | 'mean' | 'cov'>,
  b: Pick<GaussianStats, 'dims' | 'mean' | 'cov'>,
): number {
  const n = a.dims;
  if (b.dims !== n) throw new RangeError(`frechetDistance: feature dims differ (${n} vs ${b.dims})`);
  if (a.mean.length !== n || b.mean.length !== n || a.cov.length !== n * n || b.cov.length !== n * n) {
    throw new RangeError(`frechetDistance: mean must have ${n} entries and cov ${n * n}`);
  }
  let meanTerm = 0;
  for (let i = 0; i < n; i++) meanTerm += (a.mean[i]! - b.mean[i]!) ** 2;
  const { values, vectors } = symmetricEigen(a.cov, n);
  const middle = matMulTransposeA(vectors, matMul(b.cov, vectors, n), n);
  const roots = values.map((v) => Math.sqrt(Math.max(v, 0)));
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) middle[i * n + j]! *= roots[i]! * roots[j]!;
  const crossTerm = traceSqrtPsd(middle, n);
  const distance = meanTerm + trace(a.cov, n) + trace(b.cov, n) - 2 * crossTerm;
  // Rounding can make the distance of (nearly) identical sets a tiny negative number.
  return Math.max(0, distance);
}

/** FID between two feature sets (n×dims row-major each). */
export function fid(featuresA: ArrayLike<number>, featuresB: ArrayLike<number>, dims: number): number {
  return frechetDistance(gaussianStats(featuresA, dims), gaussianStats(featuresB, dims));
}
