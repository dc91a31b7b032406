export type { Denoiser, Prediction, SampleOptions, VarianceKind } from './types.ts';
export { ddpmSample, type DdpmSampleOptions } from './ddpm.ts';
export { ddimSample, type DdimSampleOptions } from './ddim.ts';
export { spacedTimesteps, reverseTables, type ReverseTables } from './timesteps.ts';
export { toX0AndEps } from './predict.ts';
export { toUint8Images, imageGrid, type ImageGrid, type ImageGridOptions } from './images.ts';
export { yieldToEventLoop } from './yield.ts';
