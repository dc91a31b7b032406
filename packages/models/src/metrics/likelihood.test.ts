import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bitsPerDim, discretizedGaussianLogLikelihood, normalKl } from './likelihood.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('normalKl', () => {
  it('matches the closed form and is 0 for identical Gaussians', async () => {
    const [m1, lv1, m2, lv2] = [0.3, Math.log(0.5), -0.2, Math.log(2)];
    const expected = 0.5 * (-1 + lv2 - lv1 + Math.exp(lv1 - lv2) + (m1 - m2) ** 2 * Math.exp(-lv2));
    const kl = normalKl(tf.tensor1d([m1, 0.7]), tf.tensor1d([lv1, -1]), tf.tensor1d([m2, 0.7]), tf.tensor1d([lv2, -1]));
    const [value, same] = Array.from(await kl.data());
    expect(value).toBeCloseTo(expected, 6);
    expect(same).toBeCloseTo(0, 7);
    const prior = normalKl(tf.tensor1d([0.1]), Math.log(0.9), 0, 0); // q(x_T|x0) against N(0, 1)
    expect((await prior.data())[0]).toBeCloseTo(0.5 * (-1 - Math.log(0.9) + 0.9 + 0.01), 6);
  });
});

describe('discretizedGaussianLogLikelihood', () => {
  it('gives probabilities over the 256 pixel values that sum to 1', async () => {
    const x = tf.tensor1d(Array.from({ length: 256 }, (_, k) => -1 + (2 * k) / 255));
    for (const [mean, logScale] of [
      [0.3, -2],
      [-0.95, -4],
      [0, 0.5],
    ] as const) {
      const logp = discretizedGaussianLogLikelihood(x, tf.fill([256], mean), tf.fill([256], logScale));
      const total = (await tf.sum(tf.exp(logp)).data())[0]!;
      expect(Math.abs(total - 1)).toBeLessThan(1e-4);
    }
  });

  it('is differentiable with respect to the mean and log scale', async () => {
    const x = tf.tensor1d([-1, -0.2, 0.5, 1]);
    const grads = tf.grads((m: tf.Tensor, s: tf.Tensor) => tf.sum(discretizedGaussianLogLikelihood(x, m, s)))([
      tf.tensor1d([-0.9, 0, 0.4, 0.8]),
      tf.tensor1d([-3, -3, -3, -3]),
    ]);
    for (const g of grads) for (const v of await g.data()) expect(Number.isFinite(v)).toBe(true);
  });
});

describe('bitsPerDim', () => {
  it('converts nats per image into bits per value', () => {
    expect(bitsPerDim(3072 * Math.LN2 * 3.5, 3072)).toBeCloseTo(3.5, 12);
    expect(() => bitsPerDim(1, 0)).toThrow(/dims/);
  });
});
