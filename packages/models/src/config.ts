/**
 * `@dapple/models/config`: what describes a model without building one — the DDPM and Glow configs, presets,
 * limits and parameter counts, the sampler names and defaults, the backend names and the cpu backend's banner.
 * Nothing on this path imports TF.js, so the run-config schema (and with it the dashboard's bundle), the hub's
 * GraphQL layer and an app's env.ts can read it cheaply.
 */
export type { UNetConfig } from './diffusion/unet.ts';
export { PRESET_NAMES, presetConfig, presetInfo, type PresetInfo, type PresetName } from './diffusion/presets.ts';
export { countUNetParams } from './diffusion/param-count.ts';
export {
  SAMPLER_KINDS,
  DEFAULT_SAMPLER,
  DEFAULT_SAMPLE_STEPS,
  DEFAULT_CLASS_GUIDANCE,
  type SamplerKind,
} from './diffusion/samplers/kinds.ts';
export { validateGlowConfig, levelChannels, glowDims, GLOW_LIMITS, type GlowConfig } from './glow/config.ts';
export {
  glowPresetConfig,
  glowPresetInfo,
  countGlowParams,
  GLOW_PRESET_NAMES,
  GLOW_TRAINING_DEFAULTS,
  type GlowPresetName,
  type GlowPresetInfo,
} from './glow/presets.ts';
export { BACKEND_NAMES, type BackendName } from './backend-names.ts';
export { PRECISIONS, type Precision as TrainingPrecision } from './optim/precision.ts';
export { CPU_BANNER } from './cpu-banner.ts';
