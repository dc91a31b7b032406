import { describe, expect, it } from 'vitest';
import { bucketShift, decompose, levelForShift, levelShift, ROLLUP_LEVELS } from './ladder.ts';
import { mulberry32 } from './test-fixtures.ts';

describe('bucketShift', () => {
  it('picks the smallest power-of-2 width that fits maxPoints aligned buckets', () => {
    expect(bucketShift(0, 999, 1000)).toBe(0);
    expect(bucketShift(0, 1000, 1000)).toBe(1);
    expect(bucketShift(0, 999_999, 1000)).toBe(10);
    expect(bucketShift(5, 5, 1)).toBe(0);
    // [3, 4] straddles a width-2 boundary and a width-4 boundary: needs width 8 for one bucket.
    expect(bucketShift(3, 4, 1)).toBe(3);
  });

  it('never returns more buckets than asked, and a width half as big would not fit', () => {
    const rand = mulberry32(7);
    for (let i = 0; i < 2000; i++) {
      const from = Math.floor(rand() * 5_000_000);
      const to = from + Math.floor(rand() * 3_000_000);
      const max = 1 + Math.floor(rand() * 2000);
      const k = bucketShift(from, to, max);
      const count = (w: number) => Math.floor(to / w) - Math.floor(from / w) + 1;
      expect(count(2 ** k)).toBeLessThanOrEqual(max);
      if (k > 0) expect(count(2 ** (k - 1))).toBeGreaterThan(max);
    }
  });
});

describe('decompose', () => {
  it('covers the range exactly with aligned pieces that each sit inside one output bucket', () => {
    const rand = mulberry32(11);
    for (let i = 0; i < 3000; i++) {
      const from = Math.floor(rand() * 3_000_000);
      const to = from + Math.floor(rand() ** 3 * 4_000_000);
      const shift = bucketShift(from, to, 1 + Math.floor(rand() * 1500));
      const top = levelForShift(shift);
      expect(levelShift(top)).toBeLessThanOrEqual(shift);
      const pieces = decompose(from, to, top);
      let next = from;
      let rollupRows = 0;
      for (const p of pieces) {
        expect(p.fromStep).toBe(next);
        expect(p.toStep).toBeGreaterThanOrEqual(p.fromStep);
        const w = 2 ** levelShift(p.level);
        expect(p.fromStep % w).toBe(0);
        expect((p.toStep + 1) % w).toBe(0);
        expect(p.level).toBeLessThanOrEqual(top);
        rollupRows += (p.toStep + 1 - p.fromStep) / w;
        next = p.toStep + 1;
      }
      expect(next).toBe(to + 1);
      // Touches about range/width(top) rows plus small edges, never the raw range.
      const range = to - from + 1;
      expect(rollupRows).toBeLessThanOrEqual(range / 2 ** levelShift(top) + 2 * (15 + 3 * ROLLUP_LEVELS));
    }
  });

  it('uses raw points only when the top level is 0', () => {
    expect(decompose(3, 40, 0)).toEqual([{ level: 0, fromStep: 3, toStep: 40 }]);
  });

  it('walks up the ladder on the left and down on the right', () => {
    expect(decompose(5, 200, 2)).toEqual([
      { level: 0, fromStep: 5, toStep: 15 },
      { level: 1, fromStep: 16, toStep: 63 },
      { level: 2, fromStep: 64, toStep: 191 },
      { level: 0, fromStep: 192, toStep: 200 },
    ]);
  });
});
