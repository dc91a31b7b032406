import { describe, expect, it } from 'vitest';
import { batchLabels } from './labels.ts';
import { gridLayout, MAX_GRID_CLASSES } from './sample-grid.ts';

describe('batchLabels', () => {
  it('keeps class ids and gives unlabelled images (-1) the null label numClasses', async () => {
    const t = batchLabels(Int32Array.from([0, 1, -1, 1]), 2);
    expect(t.dtype).toBe('int32');
    expect(Array.from(await t.data())).toEqual([0, 1, 2, 1]);
    t.dispose();
  });

  it('refuses a label beyond the run’s classes (config and data disagree)', () => {
    expect(() => batchLabels(Int32Array.from([0, 3]), 2)).toThrow(/shard holds label 3, but the run has 2 classes/);
  });
});

describe('gridLayout', () => {
  it('one row per class, enough columns for the sample count; square-ish without classes', () => {
    expect(gridLayout(16, undefined)).toEqual({ rows: 4, cols: 4, classes: null });
    expect(gridLayout(8, 2)).toEqual({ rows: 2, cols: 4, classes: [0, 1] });
    expect(gridLayout(16, 10)).toMatchObject({ rows: 10, cols: 2 });
    expect(gridLayout(16, 100)).toMatchObject({ rows: MAX_GRID_CLASSES, cols: 1 });
  });
});
