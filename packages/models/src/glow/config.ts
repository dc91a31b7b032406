/** Architecture of a Glow model (Kingma & Dhariwal 2018): what a checkpoint records to rebuild it. */
export interface GlowConfig {
  /** Image side in pixels (square); must be divisible by 2^levels (every level starts with a squeeze). */
  resolution: number;
  /** Image channels (1 grey, 3 RGB). */
  channels: number;
  /** L: number of levels (scales); a split with a learned prior follows every level but the last. */
  levels: number;
  /** K: steps of flow per level (actnorm → invertible 1×1 conv → coupling). */
  depth: number;
  /** Width of the coupling networks (conv3×3 → conv1×1 → zero-initialised conv3×3). */
  hiddenChannels: number;
  /** 'affine' (scale = sigmoid(h + 2), as openai/glow) or 'additive' (volume-preserving, NICE). */
  coupling: 'affine' | 'additive';
  /** Bits per colour channel the data is reduced to before dequantization (1–8; 8 = the images as they are). */
  nBits: number;
  /** Class-conditional priors (top and every split) with this many classes; labels are required then. */
  numClasses?: number;
}

export const GLOW_LIMITS = {
  resolution: [4, 512],
  channels: [1, 4],
  levels: [1, 6],
  depth: [1, 64],
  hiddenChannels: [4, 1024],
  nBits: [1, 8],
  numClasses: [1, 10_000],
} as const;

/** Throws a RangeError naming the field (`glow.<field>`) and its bound. */
export function validateGlowConfig(c: GlowConfig): void {
  const fail = (field: string, msg: string): never => {
    throw new RangeError(`glow.${field} ${msg}`);
  };
  const int = (field: keyof typeof GLOW_LIMITS, v: unknown) => {
    const [lo, hi] = GLOW_LIMITS[field];
    if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi)
      fail(field, `must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  };
  if (c === null || typeof c !== 'object') throw new RangeError('glow config must be an object');
  int('resolution', c.resolution);
  int('channels', c.channels);
  int('levels', c.levels);
  int('depth', c.depth);
  int('hiddenChannels', c.hiddenChannels);
  int('nBits', c.nBits);
  if (c.numClasses !== undefined) int('numClasses', c.numClasses);
  if (c.coupling !== 'affine' && c.coupling !== 'additive')
    fail('coupling', `must be 'affine' or 'additive', got ${JSON.stringify(c.coupling)}`);
  if (c.resolution % 2 ** c.levels !== 0)
    fail('resolution', `(${c.resolution}) must be divisible by 2^levels = ${2 ** c.levels}`);
}

/** Channels at each level after its squeeze: 4·C, then ×2 per level (split halves, squeeze quadruples). */
export function levelChannels(c: GlowConfig): number[] {
  return Array.from({ length: c.levels }, (_, i) => c.channels * 4 * 2 ** i);
}

/** Number of values per image, D = H·W·C. */
export function glowDims(c: GlowConfig): number {
  return c.resolution * c.resolution * c.channels;
}
