import type { UNetConfig } from './unet.ts';
import { countUNetParams } from './param-count.ts';

export type PresetName = 'tiny' | 'small' | 'base';

const PRESETS: Record<PresetName, Omit<UNetConfig, 'channels'>> = {
  /**
   * CI-sized: trains at ~100 images/s on one wasm thread. Attention only in the middle block: batched
   * matMuls are slow on wasm, and extra attention at 8×8 cost a third of the step for no gain here.
   */
  tiny: {
    resolution: 16,
    baseChannels: 16,
    channelMults: [1, 2],
    numResBlocks: 1,
    attentionResolutions: [],
    dropout: 0,
    groups: 8,
  },
  /** A 32×32 model that trains on CPU in hours. */
  small: {
    resolution: 32,
    baseChannels: 32,
    channelMults: [1, 2, 2],
    numResBlocks: 1,
    attentionResolutions: [8],
    dropout: 0.1,
    groups: 16,
  },
  /** The DDPM CIFAR-10 configuration (Ho et al. 2020): 35.7M parameters with 3 channels. */
  base: {
    resolution: 32,
    baseChannels: 128,
    channelMults: [1, 2, 2, 2],
    numResBlocks: 2,
    attentionResolutions: [16],
    dropout: 0.1,
    groups: 32,
  },
};

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** A preset's UNet configuration; `overrides` can change channels, classes, learned sigma, … */
export function presetConfig(name: PresetName, overrides: Partial<UNetConfig> = {}): UNetConfig {
  const p = PRESETS[name];
  if (!p) throw new RangeError(`preset must be one of ${PRESET_NAMES.join(', ')}, got ${String(name)}`);
  return {
    ...p,
    channels: 3,
    channelMults: [...p.channelMults],
    attentionResolutions: [...p.attentionResolutions],
    ...overrides,
  };
}

export interface PresetInfo {
  name: PresetName;
  config: UNetConfig;
  params: number;
}

/** Every preset (or one) with its parameter count, for the given image channels / classes. */
export function presetInfo(overrides: Partial<UNetConfig> = {}): PresetInfo[] {
  return PRESET_NAMES.map((name) => {
    const config = presetConfig(name, overrides);
    return { name, config, params: countUNetParams(config) };
  });
}
