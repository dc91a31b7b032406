// Public surface of Glow (Kingma & Dhariwal 2018): the model, its presets, data space and bits/dim,
// trainer, sampling / encoding / interpolation, and checkpoint helpers.
export { validateGlowConfig, levelChannels, glowDims, GLOW_LIMITS, type GlowConfig } from './config.ts';
export { createGlow, DEFAULT_TEMPERATURE, type Glow, type GlowForward, type DecodeOptions } from './model.ts';
export {
  glowPresetConfig,
  glowPresetInfo,
  countGlowParams,
  GLOW_PRESET_NAMES,
  GLOW_TRAINING_DEFAULTS,
  type GlowPresetName,
  type GlowPresetInfo,
} from './presets.ts';
export { numBins, toBins, dequantize, glowToImages, bitsPerDimFromLogDensity } from './data.ts';
export {
  createGlowTrainer,
  type GlowTrainer,
  type GlowTrainerConfig,
  type GlowTrainBatch,
  type GlowStepMetrics,
  type GlowTrainerState,
} from './train.ts';
export { evaluateBitsPerDim, type BitsPerDimOptions, type BitsPerDimResult } from './evaluate.ts';
export { glowSample, glowEncode, glowDecode, glowInterpolate, type GlowSampleOptions } from './sample.ts';
export {
  glowCheckpoint,
  glowCheckpointInitialized,
  glowFromCheckpoint,
  glowTrainerState,
  glowInferenceWeights,
  glowFromInferenceWeights,
  glowConfigFromRecord,
  assignGlowWeights,
  type GlowCheckpointOptions,
} from './checkpoint.ts';
