import { describe, expect, it } from 'vitest';
import {
  DIGIT_CLASSES,
  ICON_CLASSES,
  flipUpsideDown,
  meanImage,
  noiseImages,
  syntheticDigits,
  syntheticIcons,
  withPixelNoise,
} from './synthetic-images.ts';

describe('synthetic evaluation images', () => {
  it('are reproducible for a seed, in [-1, 1], with balanced labels', () => {
    for (const [make, classes] of [
      [syntheticDigits, DIGIT_CLASSES],
      [syntheticIcons, ICON_CLASSES],
    ] as const) {
      const a = make(40, 20, 3);
      expect(Array.from(make(40, 20, 3).pixels)).toEqual(Array.from(a.pixels));
      expect(Array.from(make(40, 20, 4).pixels)).not.toEqual(Array.from(a.pixels));
      expect(a.pixels.length).toBe(40 * 20 * 20 * 3);
      expect(a.pixels.every((v) => v >= -1 && v <= 1)).toBe(true);
      const counts = new Array<number>(classes).fill(0);
      for (const l of a.labels) counts[l]!++;
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      expect(a.classes).toBe(classes);
    }
    expect(() => syntheticIcons(1, 8, 0)).toThrow(/size must be an integer ≥ 16/);
  });

  it('flips rows only, and twice is the identity; degrades as documented', () => {
    const a = syntheticIcons(3, 16, 1);
    const f = flipUpsideDown(a);
    const row = 16 * 3;
    expect(Array.from(f.pixels.subarray(0, row))).toEqual(Array.from(a.pixels.subarray(15 * row, 16 * row)));
    expect(Array.from(flipUpsideDown(f).pixels)).toEqual(Array.from(a.pixels));
    expect(Array.from(f.labels)).toEqual(Array.from(a.labels));
    const mean = meanImage(a);
    expect(mean[5]).toBeCloseTo((a.pixels[5]! + a.pixels[768 + 5]! + a.pixels[1536 + 5]!) / 3, 6);
    const noised = withPixelNoise(a, 0.1, 2);
    const rms = Math.sqrt(noised.pixels.reduce((s, v, i) => s + (v - a.pixels[i]!) ** 2, 0) / a.pixels.length);
    expect(rms).toBeGreaterThan(0.07);
    expect(rms).toBeLessThan(0.11);
    expect(noiseImages(2, 16, 1).every((v) => v >= -1 && v <= 1)).toBe(true);
  });
});
