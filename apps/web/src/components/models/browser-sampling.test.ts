import { describe, expect, it } from 'vitest';
import { imageSlices, workersFor } from './browser-sampling';

describe('splitting in-browser sampling over workers', () => {
  it('uses one worker per core on CPU backends, never more than images, and one on GPU backends', () => {
    expect(workersFor('wasm', 16, 4)).toBe(4);
    expect(workersFor('cpu', 3, 16)).toBe(3);
    expect(workersFor('wasm', 64, 32)).toBe(8);
    expect(workersFor('wasm', 1, 8)).toBe(1);
    expect(workersFor('wasm', 5, 0)).toBe(1);
    expect(workersFor('webgl', 16, 8)).toBe(1);
    expect(workersFor('webgpu', 16, 8)).toBe(1);
  });

  it('slices cover every image once, in order, sizes differing by at most one', () => {
    expect(imageSlices(7, 3)).toEqual([
      { firstImageIndex: 0, count: 3 },
      { firstImageIndex: 3, count: 2 },
      { firstImageIndex: 5, count: 2 },
    ]);
    expect(imageSlices(4, 1)).toEqual([{ firstImageIndex: 0, count: 4 }]);
    for (const [count, n] of [
      [16, 5],
      [3, 2],
      [9, 9],
    ] as const) {
      const slices = imageSlices(count, n);
      expect(slices.reduce((sum, s) => sum + s.count, 0)).toBe(count);
      slices.forEach((s, i) =>
        expect(s.firstImageIndex).toBe(i === 0 ? 0 : slices[i - 1]!.firstImageIndex + slices[i - 1]!.count),
      );
    }
  });
});
