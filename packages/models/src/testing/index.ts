// `@dapple/models/testing`: model configs small enough for tests, shared so every workspace's tests build the
// same micro models instead of writing them out again.
export { microUNetConfig } from './micro-unet.ts';
export { microGlowConfig } from './micro-glow.ts';
export { perturbWeights } from './trained-like.ts';
export { publishedFiles } from './published-files.ts';
