import type { GlowConfig } from '../glow/config.ts';

/**
 * The smallest Glow that still exercises every block: two levels (so one split with its learned prior), two
 * steps of flow each (actnorm, 1×1 conv, affine coupling), 5-bit data, on 8×8 RGB images. Pass only what a test
 * changes (`hiddenChannels`, `numClasses`, `coupling` …): seeded tests depend on the exact values.
 */
export function microGlowConfig(overrides: Partial<GlowConfig> = {}): GlowConfig {
  return {
    resolution: 8,
    channels: 3,
    levels: 2,
    depth: 2,
    hiddenChannels: 8,
    coupling: 'affine',
    nBits: 5,
    ...overrides,
  };
}
