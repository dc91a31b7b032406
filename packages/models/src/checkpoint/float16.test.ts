import { describe, expect, it } from 'vitest';
import { float32ToFloat16Bits } from './float16.ts';

describe('float32ToFloat16Bits', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0, 0x0000],
    [-0, 0x8000],
    [65504, 0x7bff],
    [65520, 0x7c00], // halfway to the next binade rounds to even: Inf
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // tie rounds to even (0)
    [1.5 * 2 ** -25, 0x0001],
    [2 ** -14, 0x0400], // smallest normal
    [0.1, 0x2e66],
    [1 + 2 ** -11, 0x3c00], // tie → even
    [1 + 3 * 2 ** -11, 0x3c02], // tie → even (up)
  ])('%f → %i', (value, expected) => {
    expect(float32ToFloat16Bits(value)).toBe(expected);
  });

  it('keeps NaN a NaN', () => {
    const bits = float32ToFloat16Bits(Number.NaN);
    expect(bits & 0x7c00).toBe(0x7c00);
    expect(bits & 0x3ff).not.toBe(0);
  });
});
