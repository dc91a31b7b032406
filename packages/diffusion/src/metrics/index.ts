export type { FeatureExtractor } from './types.ts';
export { symmetricEigen, type SymmetricEigen } from './eigen.ts';
export { sqrtPsd, traceSqrtPsd } from './matrix.ts';
export { FeatureMoments, gaussianStats, type GaussianStats } from './moments.ts';
export { frechetDistance, fid } from './fid.ts';
export { kernelInceptionDistance, type KidOptions, type KidResult } from './kid.ts';
export { inceptionScore, type InceptionScoreResult } from './inception-score.ts';
export { normalKl, approxStandardNormalCdf, discretizedGaussianLogLikelihood, bitsPerDim } from './likelihood.ts';
export { randomConvFeatures, collectFeatures, type RandomConvFeatureOptions } from './random-conv.ts';
