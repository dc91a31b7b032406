export interface InceptionScoreResult {
  mean: number;
  std: number;
  splits: number;
}

/**
 * Inception Score (Salimans et al. 2016) from class probabilities p(y|x) (n×numClasses, rows sum to
 * 1): exp(E_x KL(p(y|x) || p(y))) per split, p(y) being the split's mean prediction; mean and std over
 * splits. Uniform predictions score 1; confident predictions spread evenly over K classes score K.
 */
export function inceptionScore(
  probabilities: ArrayLike<number>,
  numClasses: number,
  options: { splits?: number } = {},
): InceptionScoreResult {
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
  if (probabilities.length % numClasses !== 0) {
    throw new RangeError(`probabilities length ${probabilities.length} is not a multiple of numClasses ${numClasses}`);
  }
  const n = probabilities.length / numClasses;
  const splits = options.splits ?? 10;
  if (!Number.isInteger(splits) || splits < 1 || splits > n)
    throw new RangeError(`splits must be an integer in [1, ${n}] (number of images), got ${splits}`);
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let c = 0; c < numClasses; c++) {
      const p = probabilities[r * numClasses + c]!;
      if (!(p >= 0)) throw new RangeError(`probability (${r}, ${c}) must be ≥ 0, got ${p}`);
      sum += p;
    }
    if (Math.abs(sum - 1) > 1e-3)
      throw new RangeError(`probabilities of row ${r} sum to ${sum}, expected 1 (pass softmax outputs)`);
  }
  const scores: number[] = [];
  for (let s = 0; s < splits; s++) {
    const start = Math.floor((s * n) / splits);
    const end = Math.floor(((s + 1) * n) / splits);
    const marginal = new Float64Array(numClasses);
    for (let r = start; r < end; r++)
      for (let c = 0; c < numClasses; c++) marginal[c]! += probabilities[r * numClasses + c]!;
    for (let c = 0; c < numClasses; c++) marginal[c]! /= end - start;
    let kl = 0;
    for (let r = start; r < end; r++) {
      for (let c = 0; c < numClasses; c++) {
        const p = probabilities[r * numClasses + c]!;
        if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[c]!));
      }
    }
    scores.push(Math.exp(kl / (end - start)));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / splits);
  return { mean, std, splits };
}
