import { describe, expect, it } from 'vitest';
import { Rng } from '../rng.ts';
import { inceptionScore } from './inception-score.ts';
import { defaultKidSubsetSize, kernelInceptionDistance } from './kid.ts';

/** Straightforward unbiased MMD² with the cubic polynomial kernel over two whole sets. */
function referenceMmd(a: Float32Array, b: Float32Array, d: number): number {
  const n = a.length / d;
  const k = (x: Float32Array, i: number, y: Float32Array, j: number) => {
    let dot = 0;
    for (let t = 0; t < d; t++) dot += x[i * d + t]! * y[j * d + t]!;
    return (dot / d + 1) ** 3;
  };
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i !== j) {
        xx += k(a, i, a, j);
        yy += k(b, i, b, j);
      }
      xy += k(a, i, b, j);
    }
  }
  return xx / (n * (n - 1)) + yy / (n * (n - 1)) - (2 * xy) / (n * n);
}

describe('kernelInceptionDistance', { timeout: 60_000 }, () => {
  const d = 8;
  const rng = new Rng(12);
  const setA = rng.normalArray(400 * d);
  const setA2 = rng.normalArray(400 * d);
  const setB = rng.normalArray(400 * d).map((v, i) => v * 1.2 + (i % d === 0 ? 1 : 0.3));

  it('is the unbiased MMD² when one subset covers both whole sets', () => {
    const a = setA.subarray(0, 60 * d);
    const b = setB.subarray(0, 60 * d);
    const { mean, std } = kernelInceptionDistance(a, b, d, { subsetSize: 60, numSubsets: 1 });
    expect(mean).toBeCloseTo(referenceMmd(a, b, d), 10);
    expect(std).toBe(0);
  });

  it('is ≈ 0 for a set against itself or another sample of its distribution, clearly > 0 otherwise', () => {
    const self = kernelInceptionDistance(setA, setA, d, { subsetSize: 100, numSubsets: 50 });
    const same = kernelInceptionDistance(setA, setA2, d, { subsetSize: 100, numSubsets: 50 });
    const different = kernelInceptionDistance(setA, setB, d, { subsetSize: 100, numSubsets: 50 });
    expect(Math.abs(self.mean)).toBeLessThan(3 * self.std);
    expect(Math.abs(same.mean)).toBeLessThan(3 * same.std + 0.01);
    expect(different.mean).toBeGreaterThan(20 * Math.abs(same.mean));
    expect(different.mean).toBeGreaterThan(3 * different.std);
  });

  it('gives the same numbers with and without the kernel cache, and is seeded', () => {
    const opts = { subsetSize: 50, numSubsets: 7, seed: 3 };
    const cached = kernelInceptionDistance(setA, setB, d, opts);
    const uncached = kernelInceptionDistance(setA, setB, d, { ...opts, maxKernelCacheEntries: 0 });
    expect(uncached.mean).toBeCloseTo(cached.mean, 12);
    expect(uncached.std).toBeCloseTo(cached.std, 12);
    expect(kernelInceptionDistance(setA, setB, d, { ...opts, seed: 4 }).mean).not.toBe(cached.mean);
  });

  it('draws subsets of half the smaller set by default, so their std measures sampling spread', () => {
    // Before: subsets of min(1000, n) rows were the whole set whenever n ≤ 1000, and std was ~1e-13.
    const a = setA.subarray(0, 200 * d);
    const b = setB.subarray(0, 300 * d);
    const r = kernelInceptionDistance(a, b, d, { numSubsets: 20 });
    expect([r.subsetSize, r.numSubsets, r.subsetsDiffer]).toEqual([100, 20, true]);
    expect(r.std).toBeGreaterThan(1e-3 * Math.abs(r.mean));
    expect(defaultKidSubsetSize(200, 300)).toBe(100);
    expect(defaultKidSubsetSize(5000, 4000)).toBe(1000);
    expect(defaultKidSubsetSize(3, 3)).toBe(2);
  });

  it('computes once, with std 0 and subsetsDiffer false, when a subset must be both whole sets', () => {
    const a = setA.subarray(0, 50 * d);
    const b = setB.subarray(0, 50 * d);
    const r = kernelInceptionDistance(a, b, d, { subsetSize: 50, numSubsets: 100 });
    expect([r.numSubsets, r.std, r.subsetsDiffer]).toEqual([1, 0, false]);
    expect(r.mean).toBeCloseTo(referenceMmd(a, b, d), 10);
  });

  it('rejects a subset larger than a set', () => {
    expect(() => kernelInceptionDistance(setA.subarray(0, 10 * d), setB, d, { subsetSize: 20 })).toThrow(
      /subsetSize must be an integer in \[2, 10\]/,
    );
  });
});

describe('inceptionScore', () => {
  const k = 10;
  it('is 1 for uniform predictions and K for confident predictions spread over K classes', () => {
    const n = 100;
    const uniform = new Float32Array(n * k).fill(1 / k);
    const oneHot = new Float32Array(n * k);
    for (let r = 0; r < n; r++) oneHot[r * k + (r % k)] = 1;
    expect(inceptionScore(uniform, k, { splits: 5 }).mean).toBeCloseTo(1, 6);
    const spread = inceptionScore(oneHot, k, { splits: 5 });
    expect(spread.mean).toBeCloseTo(k, 10);
    expect(spread.std).toBeCloseTo(0, 10);
    const collapsed = new Float32Array(n * k);
    for (let r = 0; r < n; r++) collapsed[r * k] = 1;
    expect(inceptionScore(collapsed, k, { splits: 1 }).mean).toBeCloseTo(1, 10);
  });

  it('rejects rows that are not probabilities', () => {
    expect(() => inceptionScore([0.5, 0.6], 2, { splits: 1 })).toThrow(/sum to 1.1/);
    expect(() => inceptionScore([0.5, 0.5], 2, { splits: 2 })).toThrow(/splits must be an integer in \[1, 1\]/);
  });
});
