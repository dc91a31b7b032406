export type { Denoiser, Prediction, SampleOptions, VarianceKind } from './types.ts';
export { ddpmSample, type DdpmSampleOptions } from './ddpm.ts';
export { ddimSample, type DdimSampleOptions } from './ddim.ts';
export { dpmSolverSample, DPM_SOLVER_DEFAULT_SPACING, type DpmSolverSampleOptions } from './dpm-solver.ts';
export {
  SAMPLER_KINDS,
  DEFAULT_SAMPLER,
  DEFAULT_SAMPLE_STEPS,
  DEFAULT_CLASS_GUIDANCE,
  type SamplerKind,
} from './kinds.ts';
export { sampleWith, type SampleWithOptions } from './sample.ts';
export {
  spacedTimesteps,
  reverseTables,
  TIMESTEP_SPACINGS,
  type ReverseTables,
  type TimestepSpacing,
} from './timesteps.ts';
export { toX0AndEps } from './predict.ts';
export { toUint8Images, imageGrid, type ImageGrid, type ImageGridOptions } from './images.ts';
export { yieldToEventLoop } from './yield.ts';
