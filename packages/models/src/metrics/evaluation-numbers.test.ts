import { describe, expect, it } from 'vitest';
import { Rng } from '../rng.ts';
import { evaluationNumbers, inceptionScoreSplits } from './evaluation-numbers.ts';

describe('evaluationNumbers', () => {
  const d = 4;
  const rng = new Rng(3);
  const fake = rng.normalArray(60 * d);
  const real = rng.normalArray(60 * d).map((v) => v + 0.5);

  it('gives KID over half-size subsets, FID, and no IS for an extractor without a class head', () => {
    const r = evaluationNumbers({ fakeFeatures: fake, realFeatures: real, dims: d, numClasses: 0, numSubsets: 10 });
    expect([r.kid.subsetSize, r.kid.numSubsets, r.kid.subsetsDiffer]).toEqual([30, 10, true]);
    expect(r.kid.std).toBeGreaterThan(0);
    expect(r.fid).toBeGreaterThan(0.5); // the means differ by 0.5 in each of 4 dims: ‖Δμ‖² ≈ 1
    expect([r.inceptionScore, r.realInceptionScore]).toEqual([null, null]);
  });

  it('gives IS of both sets with a class head, and asks for the probabilities by name', () => {
    const oneHot = (rows: number) =>
      Float32Array.from({ length: rows * 2 }, (_, i) => (i % 2 === Math.floor(i / 2) % 2 ? 1 : 0));
    const r = evaluationNumbers({
      fakeFeatures: fake,
      realFeatures: real,
      dims: d,
      numClasses: 2,
      fakeProbabilities: oneHot(60),
      realProbabilities: oneHot(60),
    });
    expect(r.inceptionScore!.mean).toBeCloseTo(2, 6);
    expect(r.inceptionScore!.splits).toBe(10);
    expect(() => evaluationNumbers({ fakeFeatures: fake, realFeatures: real, dims: d, numClasses: 2 })).toThrow(
      /has 2 classes: pass its probabilities/,
    );
    expect([inceptionScoreSplits(1), inceptionScoreSplits(7), inceptionScoreSplits(500)]).toEqual([1, 3, 10]);
  });
});
