export { createOptimizer, type Optimizer, type OptimizerConfig, type OptimizerKind } from './optimizers.ts';
export { learningRateAt, validateLrSchedule, type LrSchedule } from './lr.ts';
export { clipByGlobalNorm } from './clip.ts';
export { Ema, type EmaConfig } from './ema.ts';
export {
  LossScaler,
  DEFAULT_INITIAL_LOSS_SCALE,
  DEFAULT_GROWTH_INTERVAL,
  type LossScaleConfig,
  type PrecisionChoice,
} from './loss-scale.ts';
export { PRECISIONS, type Precision as TrainingPrecision } from './precision.ts';
