// Public surface of @dapple/diffusion: training half (schedule, backend, nn, unet, losses, optim, train)
// and sampling half (rng, samplers, checkpoint, metrics).
export * from './schedule.ts';
export * from './backend.ts';
export * from './unet.ts';
export * from './presets.ts';
export { countUNetParams } from './param-count.ts';
export { conv2d, conv2dCustomGrad, setConvGradMode, type ConvGradMode } from './nn/conv.ts';
export { groupNorm } from './nn/groupnorm.ts';
export { timestepEmbedding } from './nn/embedding.ts';
export type { ApplyContext } from './nn/blocks.ts';
export * from './losses.ts';
export * from './optim/index.ts';
export * from './train.ts';
export * from './rng.ts';
export * from './samplers/index.ts';
export * from './checkpoint/index.ts';
export * from './metrics/index.ts';
