import { inceptionScore } from '@dapple/models';
import { describe, expect, it } from 'vitest';
import { interleavedOrder, labelBlocks, permuteRows } from './label-order.ts';

describe('evaluation sample order', () => {
  it('labelBlocks splits n images over the labels as evenly as possible', () => {
    expect(labelBlocks(7, [4, 9, 2])).toEqual([
      [4, 0, 3],
      [9, 3, 2],
      [2, 5, 2],
    ]);
    expect(labelBlocks(5, [])).toEqual([[null, 0, 5]]);
    expect(labelBlocks(2, [0, 1, 2])).toEqual([
      [0, 0, 1],
      [1, 1, 1],
    ]);
  });

  it('interleavedOrder takes one row of each block in turn, every row once', () => {
    const blocks = labelBlocks(7, [4, 9, 2]);
    expect(interleavedOrder(blocks)).toEqual([0, 3, 5, 1, 4, 6, 2]);
    expect(interleavedOrder(labelBlocks(4, []))).toEqual([0, 1, 2, 3]);
  });

  it('a perfect two-class conditional model scores IS ≈ 2 once interleaved (≈ 1 in label-sorted splits)', () => {
    // 64 confident predictions, sampled label by label: rows 0–31 say class 0, rows 32–63 class 1.
    const n = 64;
    const probs = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) probs.set(i < n / 2 ? [0.99, 0.01] : [0.01, 0.99], i * 2);
    const splits = 10;
    const sorted = inceptionScore(probs, 2, { splits });
    const order = interleavedOrder(labelBlocks(n, [0, 1]));
    const mixed = inceptionScore(permuteRows(probs, 2, order), 2, { splits });
    expect(sorted.mean).toBeLessThan(1.1);
    expect(mixed.mean).toBeGreaterThan(1.8);
    expect(() => permuteRows(probs, 2, order.slice(1))).toThrow(/do not cover/);
  });
});
