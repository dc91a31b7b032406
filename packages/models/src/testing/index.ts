// `@dapple/models/testing`, for tests only: micro model configs and the steps that make a trained-looking,
// published micro model, shared so every workspace's tests build the same models instead of writing them out again.
export { microUNetConfig } from './micro-unet.ts';
export { microGlowConfig } from './micro-glow.ts';
export { perturbWeights } from './perturb-weights.ts';
export { publishedFiles } from './published-files.ts';
