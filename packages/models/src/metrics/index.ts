export type { FeatureExtractor } from './types.ts';
export { symmetricEigen, symmetricEigenvalues, type EigenMethod, type SymmetricEigen } from './eigen.ts';
export { sqrtPsd, traceSqrtPsd } from './matrix.ts';
export { FeatureMoments, gaussianStats, type GaussianStats } from './moments.ts';
export { frechetDistance, fid } from './fid.ts';
export { defaultKidSubsetSize, kernelInceptionDistance, type KidOptions, type KidResult } from './kid.ts';
export { inceptionScore, type InceptionScoreResult } from './inception-score.ts';
// discretizedGaussianLogLikelihood (log-scale form) stays internal: losses.ts exports a log-variance
// form under the same name, and both are re-exported from the package index.
export { normalKl, approxStandardNormalCdf, bitsPerDim } from './likelihood.ts';
export {
  estimateVariationalBound,
  variationalBound,
  type BoundEstimate,
  type BoundEstimateOptions,
  type VariationalBound,
  type VariationalBoundOptions,
} from './vlb.ts';
export { randomConvFeatures, collectFeatures, type RandomConvFeatureOptions } from './random-conv.ts';
export {
  evaluationNumbers,
  inceptionScoreSplits,
  type EvaluationNumbers,
  type EvaluationNumbersInput,
} from './evaluation-numbers.ts';
export {
  loadDatasetClassifier,
  sampleClassAccuracy,
  trainDatasetClassifier,
  type DatasetClassifier,
  type SampleClassAccuracy,
  type TrainDatasetClassifierOptions,
} from './dataset-classifier.ts';
export {
  DIGIT_CLASSES,
  ICON_CLASSES,
  ICON_NAMES,
  flipUpsideDown,
  meanImage,
  noiseImages,
  syntheticDigits,
  syntheticIcons,
  withPixelNoise,
  type SyntheticImages,
} from './synthetic-images.ts';
