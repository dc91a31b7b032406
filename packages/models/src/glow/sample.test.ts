import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { Rng } from '../rng.ts';
import { assignValues } from './actnorm.ts';
import type { GlowConfig } from './config.ts';
import { microGlowConfig } from '../testing/micro-glow.ts';
import { dequantize, glowToImages, toBins } from './data.ts';
import { createGlow, type Glow } from './model.ts';
import { evaluateBitsPerDim } from './evaluate.ts';
import { glowDecode, glowEncode, glowInterpolate, glowSample } from './sample.ts';

const micro = microGlowConfig();

function images(batch: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.mul(new Rng(seed).normal([batch, 8, 8, 3]), 0.5), -1, 1) as tf.Tensor4D);
}

/** A model off its zero-initialised start (non-trivial priors and couplings). */
function trainedLike(config: GlowConfig, seed: number): Glow {
  const model = createGlow(config, seed);
  const x = images(8, seed);
  const y = dequantize(x, config.nBits, 'center');
  model.initialize(y, config.numClasses ? tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32') : undefined);
  const rng = new Rng(seed + 1);
  for (const v of model.variables.values()) {
    const d = v.dataSync();
    assignValues(
      v,
      Float32Array.from(rng.normalArray(v.size), (n, i) => d[i]! + n * 0.02),
    );
  }
  tf.dispose([x, y]);
  return model;
}

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

describe('Glow sampling, encoding, interpolation', () => {
  it('samples are images in [-1, 1] on the n-bit grid, reproducible by seed and independent of batching', async () => {
    const model = trainedLike(micro, 1);
    const a = await glowSample({ model, count: 6, seed: 5 });
    expect(a.shape).toEqual([6, 8, 8, 3]);
    const values = a.dataSync();
    for (const v of values) expect(v >= -1 && v <= 1).toBe(true);
    // On the 5-bit grid: 8-bit values are multiples of 8.
    for (const v of toBins(a, 8).dataSync()) expect(v % 8).toBe(0);
    const live = tf.memory().numTensors;
    const again = await glowSample({ model, count: 6, seed: 5 });
    expect(tf.memory().numTensors).toBe(live + 1); // only the result survives
    expect(Array.from(again.dataSync())).toEqual(Array.from(values));
    // Images 2..5 drawn alone, in batches of 2, are images 2..5 of the whole request.
    const tail = await glowSample({ model, count: 4, seed: 5, firstImageIndex: 2, batchSize: 2 });
    const tailValues = tail.dataSync();
    const want = a.slice([2, 0, 0, 0], [4, -1, -1, -1]).dataSync();
    let diff = 0;
    for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(tailValues[i]! - want[i]!));
    expect(diff).toBeLessThan(1e-6);
    const other = await glowSample({ model, count: 6, seed: 6 });
    expect(Array.from(other.dataSync())).not.toEqual(Array.from(values));
    // Temperature scales the spread of the latents around the prior means.
    const spread = async (temperature: number) => {
      const s = await glowSample({ model, count: 16, seed: 3, temperature });
      const std = tf.moments(glowEncode(model, s)[0]!).variance.sqrt().dataSync()[0]!;
      s.dispose();
      return std;
    };
    expect(await spread(0.3)).toBeLessThan(await spread(1));
    tf.dispose([a, again, tail, other]);
    model.dispose();
  });

  it('a class-conditional model needs a valid label per image', async () => {
    const model = trainedLike({ ...micro, numClasses: 3 }, 2);
    await expect(glowSample({ model, count: 2, seed: 1 })).rejects.toThrow(
      /labels must give a class for each of the 2 images/,
    );
    await expect(glowSample({ model, count: 2, seed: 1, labels: [0, 3] })).rejects.toThrow(
      /integers in \[0, 2\], got 3/,
    );
    const s = await glowSample({ model, count: 3, seed: 1, labels: [0, 1, 2] });
    expect(s.shape).toEqual([3, 8, 8, 3]);
    s.dispose();
    model.dispose();
  });

  it('encode → decode gives back the image at n bits; interpolation starts and ends at the two images', () => {
    const model = trainedLike(micro, 3);
    const x = images(2, 9);
    const quantized = glowToImages(dequantize(x, micro.nBits, 'center'), micro.nBits);
    const back = glowDecode(model, glowEncode(model, x));
    expect(Array.from(toBins(back, 8).dataSync())).toEqual(Array.from(toBins(quantized, 8).dataSync()));
    const a = x.slice([0, 0, 0, 0], [1, -1, -1, -1]);
    const b = x.slice([1, 0, 0, 0], [1, -1, -1, -1]).reshape([8, 8, 3]);
    const strip = glowInterpolate(model, a, b, 5);
    expect(strip.shape).toEqual([5, 8, 8, 3]);
    const bins = toBins(strip, 8);
    const q = toBins(quantized, 8);
    const row = (t: tf.Tensor, i: number) => Array.from(t.slice([i, 0, 0, 0], [1, -1, -1, -1]).dataSync());
    expect(row(bins, 0)).toEqual(row(q, 0));
    expect(row(bins, 4)).toEqual(row(q, 1));
    // The middle is neither end.
    expect(row(bins, 2)).not.toEqual(row(q, 0));
    expect(row(bins, 2)).not.toEqual(row(q, 1));
    expect(() => glowInterpolate(model, a, b, 1)).toThrow(/steps must be an integer ≥ 2/);
    expect(() => glowInterpolate(model, tf.zeros([4, 4, 3]), b, 3)).toThrow(/a must be one image \[8, 8, 3\]/);
    tf.dispose([x, quantized, back, a, b, strip, bins, q]);
    model.dispose();
  });
  it('held-out bits/dim: the same number at any batch size; matches bitsPerDim of the same dequantization', async () => {
    const model = trainedLike({ ...micro, numClasses: 3 }, 4);
    const x = images(5, 10);
    const labels = tf.tensor1d([0, 1, 2, 0, 1], 'int32');
    const whole = await evaluateBitsPerDim({ model, images: x, labels, seed: 3 });
    const batched = await evaluateBitsPerDim({ model, images: x, labels, seed: 3, batchSize: 2 });
    Array.from(batched.perImage).forEach((v, i) => expect(v).toBeCloseTo(whole.perImage[i]!, 4));
    expect(batched.mean).toBeCloseTo(whole.mean, 4);
    // Images 3..4 alone, with their offset, are the same two numbers.
    const tail = await evaluateBitsPerDim({
      model,
      images: x.slice([3, 0, 0, 0], [2, -1, -1, -1]),
      labels: labels.slice([3], [2]),
      seed: 3,
      firstImageIndex: 3,
    });
    expect(tail.perImage[1]).toBeCloseTo(whole.perImage[4]!, 4);
    const other = await evaluateBitsPerDim({ model, images: x, labels, seed: 4 });
    expect(other.mean).not.toBe(whole.mean);
    expect(Math.abs(other.mean - whole.mean)).toBeLessThan(0.05);
    tf.dispose([x, labels]);
    model.dispose();
  });
});
