import { fid } from './fid.ts';
import { inceptionScore, type InceptionScoreResult } from './inception-score.ts';
import { defaultKidSubsetSize, kernelInceptionDistance, type KidResult } from './kid.ts';

export interface EvaluationNumbersInput {
  /** Row-major n×dims features of the generated images and of as many real images. */
  fakeFeatures: Float32Array;
  realFeatures: Float32Array;
  dims: number;
  /** Softmax rows of the extractor's class head (n×numClasses each); numClasses 0 = no head, no IS. */
  fakeProbabilities?: Float32Array;
  realProbabilities?: Float32Array;
  numClasses: number;
  /** Seed of the KID subsets; default 0. */
  seed?: number;
  /** KID subsets; default 100. */
  numSubsets?: number;
}

export interface EvaluationNumbers {
  kid: KidResult;
  fid: number;
  /** null when the extractor has no class head (numClasses 0, e.g. the pretrained MobileNetV2 extractor). */
  inceptionScore: InceptionScoreResult | null;
  realInceptionScore: InceptionScoreResult | null;
}

/** IS splits: 10, or ⌊n/2⌋ when fewer images (each split needs a few images for its marginal). */
export function inceptionScoreSplits(n: number): number {
  return Math.max(1, Math.min(10, Math.floor(n / 2)));
}

/**
 * The numbers of one evaluation from extracted features: KID (subsets of min(1000, n/2) rows, so the
 * std over subsets is real sampling spread), FID, and IS of both sets when the extractor has a class head.
 */
export function evaluationNumbers(input: EvaluationNumbersInput): EvaluationNumbers {
  const { fakeFeatures, realFeatures, dims, numClasses } = input;
  const rowsFake = fakeFeatures.length / dims;
  const rowsReal = realFeatures.length / dims;
  const kid = kernelInceptionDistance(fakeFeatures, realFeatures, dims, {
    subsetSize: defaultKidSubsetSize(rowsFake, rowsReal),
    numSubsets: input.numSubsets ?? 100,
    seed: input.seed ?? 0,
  });
  const is = (probabilities: Float32Array | undefined, rows: number) => {
    if (numClasses === 0) return null;
    if (!probabilities) throw new RangeError(`the extractor has ${numClasses} classes: pass its probabilities`);
    return inceptionScore(probabilities, numClasses, { splits: inceptionScoreSplits(rows) });
  };
  return {
    kid,
    fid: fid(fakeFeatures, realFeatures, dims),
    inceptionScore: is(input.fakeProbabilities, rowsFake),
    realInceptionScore: is(input.realProbabilities, rowsReal),
  };
}
