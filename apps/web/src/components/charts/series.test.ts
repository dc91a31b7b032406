import { describe, expect, it } from 'vitest';
import { alignSeries, appendPoints, capPoints, pointCount, replaceRange, smooth, type Series } from './series';

const series = (steps: number[], values: (number | null)[]): Series => ({ label: 's', steps, values });

describe('chart series helpers', () => {
  it('smooths with a debiased EMA: weight 0 is the identity, constants stay constant, nulls are skipped', () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    expect(smooth([5, 5, null, 5], 0.9)).toEqual(
      [5, 5, null, 5].map((v) => (v === null ? null : expect.closeTo(5, 10))),
    );
    const s = smooth([0, 10], 0.5) as number[];
    // Debiased: the first point is itself, the second is (0.5·0·0.5 + 0.5·10) / (1 − 0.25).
    expect(s[0]).toBe(0);
    expect(s[1]).toBeCloseTo(5 / 0.75, 10);
  });

  it('appends live points after the last step, replaces a resent step and inserts an earlier one in order', () => {
    const base = series([0, 10, 20], [1, 2, 3]);
    const next = appendPoints(base, [
      { step: 30, value: 4 },
      { step: 20, value: 3.5 },
      { step: 15, value: 2.5 },
    ]);
    expect(next.steps).toEqual([0, 10, 15, 20, 30]);
    expect(next.values).toEqual([1, 2, 2.5, 3.5, 4]);
    expect(base.steps).toEqual([0, 10, 20]); // the input is not mutated
    expect(appendPoints(base, [])).toBe(base);
  });

  it('halves a series past its limit by averaging neighbours', () => {
    const capped = capPoints(series([0, 1, 2, 3, 4], [1, 3, null, 5, 7]), 4);
    expect(capped.steps).toEqual([1, 3, 4]);
    expect(capped.values).toEqual([2, 5, 7]);
    const small = series([0, 1], [1, 2]);
    expect(capPoints(small, 4)).toBe(small);
  });

  it('aligns series on the union of their steps with nulls where a series has no point', () => {
    const [xs, a, b] = alignSeries([series([0, 2, 4], [1, 2, 3]), series([1, 2], [9, 8])]);
    expect(xs).toEqual([0, 1, 2, 4]);
    expect(a).toEqual([1, null, 2, 3]);
    expect(b).toEqual([null, 9, 8, null]);
    expect(pointCount([series([0, 1, 2], [1, null, Number.NaN])])).toBe(1);
  });

  it('replaces the points of a step range with a finer read and keeps the rest (zoomed charts)', () => {
    const overview = series([0, 10, 20, 30, 40], [1, 2, 3, 4, 5]);
    const detail = { steps: [9, 10, 11, 12, 20, 21, 35], values: [0.9, 1, 1.1, 1.2, 2, 2.1, 9] };
    // 35 is outside the asked range [10, 21] and stays out; 9 too.
    expect(replaceRange(overview, detail, 10, 21)).toEqual(
      series([0, 10, 11, 12, 20, 21, 30, 40], [1, 1, 1.1, 1.2, 2, 2.1, 4, 5]),
    );
    expect(replaceRange(overview, { steps: [], values: [] }, 10, 30)).toEqual(series([0, 40], [1, 5]));
    expect(replaceRange(series([], []), detail, 10, 12)).toEqual(series([10, 11, 12], [1, 1.1, 1.2]));
  });
});
