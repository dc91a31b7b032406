/**
 * Streaming mean and covariance in float64 over feature batches (n×dims, row-major), so statistics of
 * a large set never need all its features in memory. Uses the shifted-data formula (shift = first
 * row), which stays accurate when the means are large compared with the spread.
 */
export interface GaussianStats {
  dims: number;
  count: number;
  mean: Float64Array;
  /** Unbiased covariance (divides by count − 1), row-major dims×dims. */
  cov: Float64Array;
}

export class FeatureMoments {
  private count = 0;
  private shift: Float64Array | null = null;
  private readonly sum: Float64Array;
  /** Upper triangle (and diagonal) of Σ (x − shift)(x − shift)ᵀ. */
  private readonly outer: Float64Array;
  private readonly centered: Float64Array;

  constructor(readonly dims: number) {
    if (!Number.isInteger(dims) || dims < 1) throw new RangeError(`dims must be a positive integer, got ${dims}`);
    this.sum = new Float64Array(dims);
    this.outer = new Float64Array(dims * dims);
    this.centered = new Float64Array(dims);
  }

  add(features: ArrayLike<number>): this {
    const d = this.dims;
    if (features.length % d !== 0)
      throw new RangeError(`features length ${features.length} is not a multiple of dims ${d}`);
    const rows = features.length / d;
    for (let r = 0; r < rows; r++) {
      if (this.shift === null) {
        this.shift = new Float64Array(d);
        for (let j = 0; j < d; j++) this.shift[j] = features[r * d + j]!;
      }
      const x = this.centered;
      for (let j = 0; j < d; j++) {
        const value = features[r * d + j]!;
        if (!Number.isFinite(value)) throw new RangeError(`feature ${j} of row ${this.count} is not finite (${value})`);
        x[j] = value - this.shift[j]!;
        this.sum[j]! += x[j]!;
      }
      for (let i = 0; i < d; i++) {
        const xi = x[i]!;
        if (xi === 0) continue;
        const row = i * d;
        for (let j = i; j < d; j++) this.outer[row + j]! += xi * x[j]!;
      }
      this.count++;
    }
    return this;
  }

  stats(): GaussianStats {
    const d = this.dims;
    const n = this.count;
    if (n < 2) throw new RangeError(`covariance needs at least 2 feature rows, got ${n}`);
    const mean = new Float64Array(d);
    const meanShifted = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      meanShifted[j] = this.sum[j]! / n;
      mean[j] = meanShifted[j]! + this.shift![j]!;
    }
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        const c = (this.outer[i * d + j]! - n * meanShifted[i]! * meanShifted[j]!) / (n - 1);
        cov[i * d + j] = c;
        cov[j * d + i] = c;
      }
    }
    return { dims: d, count: n, mean, cov };
  }
}

export function gaussianStats(features: ArrayLike<number>, dims: number): GaussianStats {
  return new FeatureMoments(dims).add(features).stats();
}
