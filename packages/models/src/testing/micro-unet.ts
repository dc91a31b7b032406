import type { UNetConfig } from '../diffusion/unet.ts';

/**
 * The smallest UNet that still exercises every block: two levels (one downsample and one upsample), a res block
 * per level, self-attention at the 4×4 level, GroupNorm with more than one group, on 8×8 RGB images. It builds
 * and steps in milliseconds on wasm, so tests of training, sampling, checkpoints and workers use it. Pass only
 * what a test changes (`numClasses`, `dropout`, `attentionResolutions: []` …): seeded tests depend on the exact
 * values, and the overrides' keys follow these in the object, as a hand-written literal would.
 */
export function microUNetConfig(overrides: Partial<UNetConfig> = {}): UNetConfig {
  return {
    resolution: 8,
    channels: 3,
    baseChannels: 8,
    channelMults: [1, 2],
    numResBlocks: 1,
    attentionResolutions: [4],
    dropout: 0,
    groups: 4,
    ...overrides,
  };
}
