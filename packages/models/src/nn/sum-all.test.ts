import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sumAll } from './sum-all.ts';

describe('sumAll', () => {
  it('equals a plain sum for counts around and far beyond the fan-in', async () => {
    await tf.setBackend('cpu');
    for (const n of [1, 2, 7, 8, 49, 50, 183]) {
      const parts = Array.from({ length: n }, (_, i) => tf.scalar(i + 1));
      const got = (await sumAll(parts).data())[0];
      expect(got).toBe((n * (n + 1)) / 2);
      tf.dispose(parts);
    }
  });

  it('leaks no tensors', async () => {
    await tf.setBackend('cpu');
    const parts = Array.from({ length: 30 }, () => tf.ones([3]));
    const before = tf.memory().numTensors;
    const s = sumAll(parts);
    expect(tf.memory().numTensors).toBe(before + 1);
    s.dispose();
    tf.dispose(parts);
  });
});
