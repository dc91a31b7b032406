import { levelChannels, validateGlowConfig, type GlowConfig } from './config.ts';

export type GlowPresetName = 'glow-tiny' | 'glow-small' | 'glow-base';

/**
 * Sized against the UNet presets of the same names (diffusion/presets.ts), at 3 channels: glow-tiny ≈ tiny
 * (0.16M parameters, 16×16), glow-small ≈ small (1.1M, 32×32), glow-base = the paper's CIFAR-10 model
 * (L = 3, K = 32, 512 hidden channels, affine coupling: 44M). nBits 8 keeps bits/dim comparable with DDPM's;
 * 5 bits (as the paper's CelebA-HQ) makes a small model's samples cleaner sooner.
 */
const PRESETS: Record<GlowPresetName, Omit<GlowConfig, 'channels'>> = {
  'glow-tiny': { resolution: 16, levels: 2, depth: 4, hiddenChannels: 64, coupling: 'affine', nBits: 8 },
  'glow-small': { resolution: 32, levels: 3, depth: 8, hiddenChannels: 96, coupling: 'affine', nBits: 8 },
  'glow-base': { resolution: 32, levels: 3, depth: 32, hiddenChannels: 512, coupling: 'affine', nBits: 8 },
};

export const GLOW_PRESET_NAMES = Object.keys(PRESETS) as GlowPresetName[];

/** A preset's Glow configuration; `overrides` can change channels, classes, nBits, coupling, … */
export function glowPresetConfig(name: GlowPresetName, overrides: Partial<GlowConfig> = {}): GlowConfig {
  const p = PRESETS[name];
  if (!p) throw new RangeError(`glow preset must be one of ${GLOW_PRESET_NAMES.join(', ')}, got ${String(name)}`);
  const config: GlowConfig = { ...p, channels: 3, ...overrides };
  validateGlowConfig(config);
  return config;
}

/**
 * Training settings that work for these presets (measured on glow-tiny, see the README): Adam at 1e-3 with a
 * linear warm-up (actnorm-initialised flows diverge without one), global-norm clipping, EMA of the weights.
 */
export const GLOW_TRAINING_DEFAULTS = {
  lr: 1e-3,
  warmupSteps: 200,
  clipNorm: 50,
  emaDecay: 0.999,
  batchSize: 32,
  temperature: 0.7,
} as const;

/** Parameter count of createGlow(config), computed without allocating tensors (kept in step by a test). */
export function countGlowParams(c: GlowConfig): number {
  const w = c.hiddenChannels;
  const classes = c.numClasses ?? 0;
  const channels = levelChannels(c);
  let n = 0;
  channels.forEach((ch, i) => {
    const c1 = Math.floor(ch / 2);
    const c2 = ch - c1;
    const out = c.coupling === 'affine' ? 2 * c2 : c2;
    const step =
      2 * ch + // actnorm
      2 * ch * ch +
      ch + // invconv: lower, upper, logs
      (9 * c1 * w + w) + // conv3×3
      (w * w + w) + // conv1×1
      (9 * w * out + out); // zero conv
    n += c.depth * step;
    if (i < c.levels - 1) n += 9 * (ch / 2) * ch + ch + classes * ch; // split prior: zero conv → 2·(ch/2), classes
  });
  const top = channels[channels.length - 1]!;
  return n + 2 * top + classes * 2 * top;
}

export interface GlowPresetInfo {
  name: GlowPresetName;
  config: GlowConfig;
  params: number;
}

/** Every Glow preset with its parameter count, for the given image channels / classes. */
export function glowPresetInfo(overrides: Partial<GlowConfig> = {}): GlowPresetInfo[] {
  return GLOW_PRESET_NAMES.map((name) => {
    const config = glowPresetConfig(name, overrides);
    return { name, config, params: countGlowParams(config) };
  });
}
