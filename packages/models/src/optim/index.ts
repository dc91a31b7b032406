export { createOptimizer, type Optimizer, type OptimizerConfig, type OptimizerKind } from './optimizers.ts';
export { learningRateAt, validateLrSchedule, type LrSchedule } from './lr.ts';
export { clipByGlobalNorm } from './clip.ts';
export { Ema, type EmaConfig } from './ema.ts';
