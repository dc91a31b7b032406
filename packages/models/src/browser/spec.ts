import type { Prediction, VarianceKind } from '../diffusion/samplers/types.ts';
import type { ScheduleKind } from '../diffusion/schedule.ts';
import { validateUNetConfig, type UNetConfig } from '../diffusion/unet.ts';
import { validateGlowConfig, type GlowConfig } from '../glow/config.ts';

/** Everything needed besides the weights to sample from a DDPM: the network, its noise schedule and what it predicts. */
export interface DdpmSamplingSpec {
  architecture?: 'ddpm';
  unet: UNetConfig;
  schedule: { kind: ScheduleKind; T: number };
  prediction: Prediction;
  /** Class names of a class-conditional model (index = label id); empty for an unconditional one. */
  labelNames: string[];
}

/** What sampling a Glow needs besides its weights: the flow (one inverse pass, no schedule). */
export interface GlowSamplingSpec {
  architecture: 'glow';
  glow: GlowConfig;
  labelNames: string[];
}

export type SamplingSpec = DdpmSamplingSpec | GlowSamplingSpec;

/** The images a model makes, whatever its family. */
export function specImages(spec: SamplingSpec): { resolution: number; channels: number; numClasses?: number } {
  const c = spec.architecture === 'glow' ? spec.glow : spec.unet;
  return {
    resolution: c.resolution,
    channels: c.channels,
    ...(c.numClasses !== undefined ? { numClasses: c.numClasses } : {}),
  };
}

function record(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function fail(field: string, msg: string): never {
  throw new RangeError(`model config: ${field} ${msg}`);
}

/**
 * Reads the sampling spec from the JSON stored with inference weights. Accepts the trainer's layout
 * (`{ unet, run: { schedule, timesteps, prediction } }`) and a flat one
 * (`{ unet, schedule: 'cosine' | { kind, T }, timesteps?, prediction | predictionType, labelNames? }`, the hub's
 * model_versions.config).
 */
export function samplingSpecFromConfig(config: unknown): SamplingSpec {
  const root = record(config) ?? fail('', 'must be an object');
  if (root['architecture'] === 'glow') {
    const glow = (record(root['glow']) ?? fail('glow', 'is missing')) as unknown as GlowConfig;
    validateGlowConfig(glow);
    const names = root['labelNames'];
    return { architecture: 'glow', glow, labelNames: Array.isArray(names) ? names.map(String) : [] };
  }
  const unet = (record(root['unet']) ?? fail('unet', 'is missing')) as unknown as UNetConfig;
  validateUNetConfig(unet);
  const run = record(root['run']) ?? {};
  const pick = (key: string): unknown => root[key] ?? run[key];
  const scheduleValue = pick('schedule') ?? 'cosine';
  let kind: unknown;
  let T: unknown;
  if (typeof scheduleValue === 'string') {
    kind = scheduleValue;
    T = pick('timesteps') ?? 1000;
  } else {
    const s = record(scheduleValue) ?? fail('schedule', 'must be a name or { kind, T }');
    kind = s['kind'];
    T = s['T'] ?? s['timesteps'] ?? pick('timesteps') ?? 1000;
  }
  if (kind !== 'linear' && kind !== 'cosine')
    fail('schedule', `must be 'linear' or 'cosine', got ${JSON.stringify(kind)}`);
  if (!Number.isInteger(T) || (T as number) < 1)
    fail('timesteps', `must be a positive integer, got ${JSON.stringify(T)}`);
  const prediction = pick('prediction') ?? pick('predictionType') ?? 'eps';
  if (prediction !== 'eps' && prediction !== 'v' && prediction !== 'x0')
    fail('prediction', `must be 'eps', 'v' or 'x0', got ${JSON.stringify(prediction)}`);
  const names = pick('labelNames');
  const labelNames = Array.isArray(names) ? names.map(String) : [];
  return { unet, schedule: { kind, T: T as number }, prediction, labelNames };
}

/** DDPM variance of a model: learned when it outputs the interpolation channels. */
export function varianceOf(spec: DdpmSamplingSpec): VarianceKind {
  return spec.unet.learnSigma ? 'learned' : 'fixedSmall';
}
