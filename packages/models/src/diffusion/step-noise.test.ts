import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { dropoutKeepMask } from '../nn/dropout-mask.ts';
import { Rng } from '../rng.ts';
import { makeSchedule } from './schedule.ts';
import { drawStepKey, dropoutSeeds, sliceNoise } from './step-noise.ts';
import { createTrainer, type SliceGradients } from './train.ts';
import { createUNet } from './unet.ts';
import { microUNetConfig } from '../testing/micro-unet.ts';

const micro = microUNetConfig({ dropout: 0.3, numClasses: 3 });

describe('per-image step randomness', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  it("an image's t, label coin and noise depend on the step key and its index only, not on the slice", () => {
    const key = drawStepKey(new Rng(5));
    const whole = sliceNoise(key, 0, 8, 1000, 12);
    const part = sliceNoise(key, 3, 4, 1000, 12);
    expect(Array.from(part.t)).toEqual(Array.from(whole.t.subarray(3, 7)));
    expect(Array.from(part.labelU)).toEqual(Array.from(whole.labelU.subarray(3, 7)));
    expect(Array.from(part.noise)).toEqual(Array.from(whole.noise.subarray(36, 84)));
    // Another key, other numbers; images differ from each other.
    const other = sliceNoise(drawStepKey(new Rng(6)), 0, 8, 1000, 12);
    expect(Array.from(other.noise)).not.toEqual(Array.from(whole.noise));
    expect(new Set(whole.t).size).toBeGreaterThan(4);
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`${backend}: a dropout mask over a slice of images is that slice of the whole batch's mask`, async () => {
      await selectBackend({ prefer: backend, fallback: false });
      const key = { lo: 0xfffffff0, hi: 7 }; // seedA + offset wraps past 2³² for some layers
      const perImage = 4 * 4 * 5;
      for (const layer of [0, 3]) {
        const a = dropoutSeeds(key, layer, 0, perImage);
        const whole = await dropoutKeepMask([6, 4, 4, 5], 0.3, a.seedA, a.seedB).data();
        const b = dropoutSeeds(key, layer, 2, perImage);
        const part = await dropoutKeepMask([3, 4, 4, 5], 0.3, b.seedA, b.seedB).data();
        expect(Array.from(part)).toEqual(Array.from(whole.subarray(2 * perImage, 5 * perImage)));
        const kept = Array.from(whole).filter((v) => v > 0).length / whole.length;
        expect(kept).toBeGreaterThan(0.6);
        expect(kept).toBeLessThan(0.8);
      }
      expect(dropoutSeeds(key, 0, 0, perImage)).not.toEqual(dropoutSeeds(key, 1, 0, perImage));
    });
  }

  it("slices of a batch (data-parallel workers) give the whole batch's gradient and loss terms, dropout and label dropout on", async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    const model = createUNet(micro, 4);
    // Move the zero-initialised output layers so every layer gets a gradient.
    for (const v of model.variables.values()) v.assign(tf.tidy(() => tf.add(v, new Rng(9).normal(v.shape).mul(0.02))));
    const trainer = createTrainer({
      model,
      schedule: makeSchedule({ kind: 'linear', T: 50 }),
      prediction: 'eps',
      optimizer: { kind: 'adam' },
      lr: 1e-3,
      microBatch: 2,
      labelDropout: 0.5,
      rng: new Rng(3),
    });
    const images = tf.tidy(() => tf.sub(tf.mul(new Rng(1).uniform([7, 8, 8, 3]), 2), 1) as tf.Tensor4D);
    const labels = tf.tensor1d([0, 1, 2, 0, 1, 2, 0], 'int32');
    const key = trainer.drawStepKey();
    const whole = await trainer.computeGradients({ images, labels }, { key, start: 0, total: 7 });
    const parts: SliceGradients[] = [];
    for (const [start, size] of [
      [0, 3],
      [3, 1],
      [4, 3],
    ] as const) {
      const sub = { images: images.slice(start, size), labels: labels.slice(start, size) };
      parts.push(await trainer.computeGradients(sub, { key, start, total: 7 }));
      tf.dispose([sub.images, sub.labels]);
    }
    // Per-image terms are computed image by image: bit-identical however the batch is cut.
    expect(parts.flatMap((p) => Array.from(p.perSample))).toEqual(Array.from(whole.perSample));
    expect(parts.flatMap((p) => Array.from(p.t))).toEqual(Array.from(whole.t));
    // The gradient sums in another order: equal up to float32 rounding.
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < whole.flats.length; i++) {
      const w = await whole.flats[i]!.data();
      const sum = await tf.tidy(() => tf.addN(parts.map((p) => p.flats[i]!))).data();
      for (let j = 0; j < w.length; j++) {
        maxDiff = Math.max(maxDiff, Math.abs(w[j]! - sum[j]!));
        maxAbs = Math.max(maxAbs, Math.abs(w[j]!));
      }
    }
    expect(maxAbs).toBeGreaterThan(1e-3);
    expect(maxDiff / maxAbs).toBeLessThan(1e-5);
    // A different key changes the gradient: the check above is not comparing constants.
    const other = await trainer.computeGradients({ images, labels }, { key: { lo: 1, hi: 2 }, start: 0, total: 7 });
    expect(Array.from(other.perSample)).not.toEqual(Array.from(whole.perSample));
    tf.dispose([images, labels, ...whole.flats, ...other.flats, ...parts.flatMap((p) => p.flats)]);
    trainer.dispose();
    model.dispose();
  }, 60_000);
});
