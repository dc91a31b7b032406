// Public surface of @dapple/models: training half (schedule, backend, nn, unet, losses, optim, train)
// and sampling half (rng, samplers, checkpoint, metrics).
export * from './diffusion/schedule.ts';
export * from './backend.ts';
export * from './diffusion/unet.ts';
export * from './diffusion/presets.ts';
export { countUNetParams } from './diffusion/param-count.ts';
export { conv2d, conv2dCustomGrad, setConvGradMode, type ConvGradMode } from './nn/conv.ts';
export { groupNorm } from './nn/groupnorm.ts';
export { timestepEmbedding } from './nn/embedding.ts';
export type { ApplyContext } from './nn/blocks.ts';
export * from './diffusion/losses.ts';
export * from './optim/index.ts';
export * from './diffusion/train.ts';
export * from './rng.ts';
export * from './diffusion/samplers/index.ts';
export * from './checkpoint/index.ts';
export * from './metrics/index.ts';
export * from './glow/index.ts';
export { modelFromWeights, type LoadedModel } from './model-from-weights.ts';
