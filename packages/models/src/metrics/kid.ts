import { Rng } from '../rng.ts';

export interface KidOptions {
  /** Rows per subset; default defaultKidSubsetSize: min(1000, half the smaller set), so that subsets differ. */
  subsetSize?: number;
  /** Number of random subsets; default 100. */
  numSubsets?: number;
  /** Seed for picking subsets; default 0. */
  seed?: number;
  /**
   * Largest number of float64 kernel entries (8 bytes each) cached across subsets; default 16M
   * (128 MB). Larger sets compute each subset's kernel values on the fly (same result, slower).
   */
  maxKernelCacheEntries?: number;
}

export interface KidResult {
  /** Mean of the unbiased MMD² estimates over the subsets. */
  mean: number;
  /**
   * Standard deviation of the per-subset estimates: how much KID computed from `subsetSize` samples
   * varies from draw to draw. 0 when `subsetsDiffer` is false (one subset: no spread to report).
   */
  std: number;
  subsetSize: number;
  /** Subsets actually averaged: 1 when every subset would be both whole sets. */
  numSubsets: number;
  /** False when subsetSize equals both set sizes, so every subset is the same (std then means nothing). */
  subsetsDiffer: boolean;
}

/**
 * The default subset size: min(1000, ⌊smaller set / 2⌋), at least 2. Half the set, so that random
 * subsets really differ and the std over them measures sampling noise (with subsets as large as the
 * sets, every subset is the whole set and the std is rounding noise, ~1e-13).
 */
export function defaultKidSubsetSize(rowsA: number, rowsB: number): number {
  return Math.max(2, Math.min(1000, Math.floor(Math.min(rowsA, rowsB) / 2)));
}

/**
 * Kernel Inception Distance (Bińkowski et al. 2018): the unbiased MMD² estimate with the polynomial
 * kernel k(x, y) = (x·y/d + 1)³, averaged over random subsets (each drawn without replacement) of
 * both sets. Float64 throughout. Unbiased, so a set against itself gives ≈ 0 (slightly negative
 * values are possible and kept). When the subset size equals both set sizes every subset is the
 * same, so the estimate is computed once (numSubsets 1, std 0, subsetsDiffer false).
 */
export function kernelInceptionDistance(
  featuresA: ArrayLike<number>,
  featuresB: ArrayLike<number>,
  dims: number,
  options: KidOptions = {},
): KidResult {
  if (!Number.isInteger(dims) || dims < 1) throw new RangeError(`dims must be a positive integer, got ${dims}`);
  if (featuresA.length % dims !== 0 || featuresB.length % dims !== 0) {
    throw new RangeError(
      `feature lengths (${featuresA.length}, ${featuresB.length}) must be multiples of dims ${dims}`,
    );
  }
  const rowsA = featuresA.length / dims;
  const rowsB = featuresB.length / dims;
  const m = options.subsetSize ?? Math.min(defaultKidSubsetSize(rowsA, rowsB), rowsA, rowsB);
  const subsetsDiffer = m < rowsA || m < rowsB;
  const numSubsets = subsetsDiffer ? (options.numSubsets ?? 100) : 1;
  if (!Number.isInteger(m) || m < 2 || m > rowsA || m > rowsB) {
    throw new RangeError(
      `subsetSize must be an integer in [2, ${Math.min(rowsA, rowsB)}] (rows in the smaller set), got ${m}`,
    );
  }
  if (options.numSubsets !== undefined && (!Number.isInteger(options.numSubsets) || options.numSubsets < 1))
    throw new RangeError(`numSubsets must be an integer ≥ 1, got ${options.numSubsets}`);
  const a = Float64Array.from(featuresA);
  const b = Float64Array.from(featuresB);
  const rng = new Rng(options.seed ?? 0);
  const pick = (rows: number) => rng.permutation(rows).subarray(0, m);

  const kernelValue = (x: Float64Array, i: number, y: Float64Array, j: number) => {
    let dot = 0;
    const xi = i * dims;
    const yj = j * dims;
    for (let k = 0; k < dims; k++) dot += x[xi + k]! * y[yj + k]!;
    const base = dot / dims + 1;
    return base * base * base;
  };
  // Subsets overlap heavily, so when the full kernel matrices fit the cache each pair is computed once;
  // otherwise every subset computes its own pairs.
  const precompute =
    rowsA * rowsA + rowsB * rowsB + rowsA * rowsB <= (options.maxKernelCacheEntries ?? 16 * 1024 * 1024);
  const table = (x: Float64Array, rowsX: number, y: Float64Array, rowsY: number, symmetric: boolean) => {
    const k = new Float64Array(rowsX * rowsY);
    for (let i = 0; i < rowsX; i++) {
      for (let j = symmetric ? i : 0; j < rowsY; j++) {
        const value = kernelValue(x, i, y, j);
        k[i * rowsY + j] = value;
        if (symmetric) k[j * rowsY + i] = value;
      }
    }
    return (i: number, j: number) => k[i * rowsY + j]!;
  };
  const onTheFly = (x: Float64Array, y: Float64Array) => (i: number, j: number) => kernelValue(x, i, y, j);
  const kaa = precompute ? table(a, rowsA, a, rowsA, true) : onTheFly(a, a);
  const kbb = precompute ? table(b, rowsB, b, rowsB, true) : onTheFly(b, b);
  const kab = precompute ? table(a, rowsA, b, rowsB, false) : onTheFly(a, b);
  const withinMean = (k: (i: number, j: number) => number, idx: Int32Array) => {
    let sum = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) sum += k(idx[p]!, idx[q]!);
    return (2 * sum) / (m * (m - 1));
  };

  const estimates = new Float64Array(numSubsets);
  for (let s = 0; s < numSubsets; s++) {
    const ia = pick(rowsA);
    const ib = pick(rowsB);
    let cross = 0;
    for (let p = 0; p < m; p++) for (let q = 0; q < m; q++) cross += kab(ia[p]!, ib[q]!);
    estimates[s] = withinMean(kaa, ia) + withinMean(kbb, ib) - (2 * cross) / (m * m);
  }
  let mean = 0;
  for (const e of estimates) mean += e;
  mean /= numSubsets;
  let variance = 0;
  for (const e of estimates) variance += (e - mean) ** 2;
  const std = numSubsets > 1 ? Math.sqrt(variance / numSubsets) : 0;
  return { mean, std, subsetSize: m, numSubsets, subsetsDiffer };
}
