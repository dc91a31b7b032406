import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { reorderLabelRows } from './base-model.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('reorderLabelRows', () => {
  it('puts base row rows[i] at row i and keeps the null label last', async () => {
    const table = tf.tensor2d([
      [0, 0],
      [1, 1],
      [2, 2],
      [9, 9],
    ]);
    const out = reorderLabelRows(table, [2, 0, 1]);
    expect(await out.array()).toEqual([
      [2, 2],
      [0, 0],
      [1, 1],
      [9, 9],
    ]);
    tf.dispose([table, out]);
  });

  it('refuses rows that are not an order of the classes', () => {
    const table = tf.zeros([3, 2]);
    expect(() => reorderLabelRows(table, [0, 0])).toThrow(/not an order of the base's 2 classes/);
    expect(() => reorderLabelRows(table, [0, 2])).toThrow(/not an order/);
    expect(() => reorderLabelRows(table, [1])).toThrow(/not an order/);
    table.dispose();
  });
});
