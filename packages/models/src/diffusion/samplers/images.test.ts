import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageGrid, toUint8Images } from './images.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('toUint8Images', () => {
  it('maps [-1, 1] to [0, 255], clamping outside values', async () => {
    const x = tf.tensor4d([-1, 0, 1, -2, 2, 0.5], [1, 1, 2, 3]);
    expect(Array.from(await toUint8Images(x))).toEqual([0, 128, 255, 0, 255, 191]);
    x.dispose();
  });
});

describe('imageGrid', () => {
  it('tiles images row-major with padding', () => {
    // three 2×2 grey images with values 1, 2, 3
    const images = new Uint8Array([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    const grid = imageGrid(images, [3, 2, 2, 1], { padding: 1, padValue: 9 });
    expect([grid.rows, grid.cols, grid.width, grid.height, grid.channels]).toEqual([2, 2, 7, 7, 1]);
    const rows = Array.from({ length: 7 }, (_, y) => Array.from(grid.pixels.subarray(y * 7, y * 7 + 7)).join(''));
    expect(rows).toEqual(['9999999', '9119229', '9119229', '9999999', '9339999', '9339999', '9999999']);
  });

  it('keeps channels together and rejects a wrong shape', () => {
    const images = new Uint8Array([10, 20, 30, 40, 50, 60]);
    const grid = imageGrid(images, [2, 1, 1, 3], { cols: 2, padding: 0 });
    expect(Array.from(grid.pixels)).toEqual([10, 20, 30, 40, 50, 60]);
    expect(() => imageGrid(images, [2, 1, 1, 2])).toThrow(/does not match 6 pixels/);
  });
});
