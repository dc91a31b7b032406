import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { Rng } from '../rng.ts';
import { assignValues } from './actnorm.ts';
import { microGlowConfig } from '../testing/micro-glow.ts';
import { createGlow, type Glow } from './model.ts';
import { createGlowTrainer } from './train.ts';

const micro = microGlowConfig({ hiddenChannels: 16 });

function images(batch: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.mul(new Rng(seed).normal([batch, 8, 8, 3]), 0.5), -1, 1) as tf.Tensor4D);
}

function snapshot(model: Glow): Map<string, Float32Array> {
  return new Map([...model.variables].map(([k, v]) => [k, v.dataSync().slice() as Float32Array]));
}

function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let m = 0;
  for (const [k, va] of a) {
    const vb = b.get(k)!;
    for (let i = 0; i < va.length; i++) m = Math.max(m, Math.abs(va[i]! - vb[i]!));
  }
  return m;
}

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

describe('Glow trainer', () => {
  it('initialises the actnorms from the first batch, then restarts the EMA from the fitted weights', async () => {
    const model = createGlow(micro, 1);
    const trainer = createGlowTrainer({ model, optimizer: { kind: 'adam' }, lr: 1e-3, rng: new Rng(1) });
    expect(model.initialized).toBe(false);
    const x = images(8, 2);
    const m1 = await trainer.step({ images: x });
    expect(m1.initialized).toBe(true);
    expect(model.initialized).toBe(true);
    const m2 = await trainer.step({ images: x });
    expect(m2.initialized).toBe(false);
    expect(m2.step).toBe(2);
    // No tensor leaks from a step (optimizer/EMA state caches are replaced, not accumulated).
    const live = tf.memory().numTensors;
    await trainer.step({ images: x });
    expect(tf.memory().numTensors).toBe(live);
    // The actnorm of the first step left its zero init.
    expect(Math.abs(model.variables.get('levels.0.steps.0.actnorm.logs')!.dataSync()[0]!)).toBeGreaterThan(0.1);
    // EMA shadow tracks the fitted weights (restarted after init), not the pre-init zeros.
    const shadow = trainer.ema!.shadow.get('levels.0.steps.0.actnorm.logs')!.dataSync()[0]!;
    const weight = model.variables.get('levels.0.steps.0.actnorm.logs')!.dataSync()[0]!;
    expect(Math.abs(shadow - weight)).toBeLessThan(0.01);
    x.dispose();
    trainer.dispose();
    model.dispose();
  });

  it('initialize() fits the actnorms before any update (a step-0 checkpoint), and the first step then skips it', async () => {
    const model = createGlow(micro, 1);
    const trainer = createGlowTrainer({ model, optimizer: { kind: 'adam' }, lr: 1e-3, rng: new Rng(1) });
    const x = images(8, 2);
    const before = tf.memory().numTensors;
    expect(await trainer.initialize({ images: x })).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(model.initialized).toBe(true);
    expect(trainer.stepCount).toBe(0);
    const logs = model.variables.get('levels.0.steps.0.actnorm.logs')!.dataSync()[0]!;
    expect(Math.abs(logs)).toBeGreaterThan(0.1);
    // The EMA holds the fitted weights, as a checkpoint at step 0 must.
    expect(trainer.ema!.shadow.get('levels.0.steps.0.actnorm.logs')!.dataSync()[0]!).toBeCloseTo(logs, 6);
    expect(await trainer.initialize({ images: x })).toBe(false);
    const m1 = await trainer.step({ images: x });
    expect(m1).toMatchObject({ initialized: false, step: 1 });
    x.dispose();
    trainer.dispose();
    model.dispose();
  });

  it('micro-batches accumulate to the same update as the whole batch', async () => {
    const run = async (microBatch?: number) => {
      const model = createGlow(micro, 3);
      // SGD: the update is linear in the gradient (Adam's first steps amplify float noise in tiny gradients
      // to ±lr, which would hide what this compares).
      const trainer = createGlowTrainer({
        model,
        optimizer: { kind: 'sgd', momentum: 0 },
        lr: 1e-2,
        rng: new Rng(4),
        ema: false,
        ...(microBatch ? { microBatch } : {}),
      });
      const x = images(8, 5);
      const losses = [];
      for (let i = 0; i < 3; i++) losses.push((await trainer.step({ images: x })).bitsPerDim);
      const weights = snapshot(model);
      x.dispose();
      trainer.dispose();
      model.dispose();
      return { losses, weights };
    };
    const whole = await run();
    const split = await run(3);
    whole.losses.forEach((l, i) => expect(split.losses[i]).toBeCloseTo(l, 4));
    expect(maxDiff(whole.weights, split.weights)).toBeLessThan(1e-5);
  });

  it('skips an update whose loss or gradient is not finite, leaving weights and optimizer untouched', async () => {
    const model = createGlow(micro, 6);
    const trainer = createGlowTrainer({ model, optimizer: { kind: 'adam' }, lr: 1e-3, rng: new Rng(7) });
    const x = images(4, 8);
    await trainer.step({ images: x });
    const top = model.variables.get('top.prior.mean_logs')!;
    const saved = top.dataSync().slice();
    assignValues(
      top,
      Float32Array.from(saved, (v, i) => (i === 0 ? Number.NaN : v)),
    );
    const before = snapshot(model);
    const m = await trainer.step({ images: x });
    expect(m.skipped).toBe(true);
    expect(Number.isNaN(m.bitsPerDim)).toBe(true);
    expect(m.step).toBe(1);
    expect(trainer.skippedSteps).toBe(1);
    const after = snapshot(model);
    for (const [k, v] of before) expect(Array.from(after.get(k)!)).toEqual(Array.from(v));
    // Fixing the weight lets training continue.
    assignValues(top, saved);
    expect((await trainer.step({ images: x })).skipped).toBe(false);
    x.dispose();
    trainer.dispose();
    model.dispose();
  });

  it('rejects bad batches and settings with errors that name the field', async () => {
    const model = createGlow({ ...micro, numClasses: 3 }, 9);
    const trainer = createGlowTrainer({ model, optimizer: { kind: 'adam' }, lr: 1e-3, rng: new Rng(1) });
    const x = images(2, 1);
    await expect(trainer.step({ images: x })).rejects.toThrow(/batch.labels are required/);
    await expect(trainer.step({ images: x, labels: tf.tensor1d([0, 3], 'int32') })).rejects.toThrow(
      /batch.labels must be integers in \[0, 2\], got 3/,
    );
    await expect(trainer.step({ images: tf.zeros([2, 4, 4, 3]) as tf.Tensor4D })).rejects.toThrow(
      /batch.images must be \[B, 8, 8, 3\]/,
    );
    expect(() =>
      createGlowTrainer({ model, optimizer: { kind: 'adam' }, lr: 1e-3, rng: new Rng(1), clipNorm: 0 }),
    ).toThrow(/trainer.clipNorm must be > 0/);
    expect(() => createGlowTrainer({ model, optimizer: { kind: 'adam' }, lr: -1, rng: new Rng(1) })).toThrow(/lr.base/);
    expect((await trainer.step({ images: x, labels: tf.tensor1d([0, 2], 'int32') })).skipped).toBe(false);
    x.dispose();
    trainer.dispose();
    model.dispose();
  });
  it('trains the same on the cpu backend as on wasm (conv gradients by another path)', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await selectBackend({ prefer: backend, fallback: false });
      const model = createGlow({ ...micro, numClasses: 2 }, 11);
      const trainer = createGlowTrainer({
        model,
        optimizer: { kind: 'sgd', momentum: 0 },
        lr: 1e-2,
        rng: new Rng(12),
        ema: false,
        microBatch: 2,
      });
      const x = images(4, 13);
      const labels = tf.tensor1d([0, 1, 1, 0], 'int32');
      const losses = [];
      for (let i = 0; i < 2; i++) losses.push((await trainer.step({ images: x, labels })).bitsPerDim);
      const weights = snapshot(model);
      tf.dispose([x, labels]);
      trainer.dispose();
      model.dispose();
      return { losses, weights };
    };
    try {
      const cpu = await run('cpu');
      const wasm = await run('wasm');
      cpu.losses.forEach((l, i) => expect(wasm.losses[i]).toBeCloseTo(l, 4));
      expect(maxDiff(cpu.weights, wasm.weights)).toBeLessThan(1e-4);
    } finally {
      await selectBackend({ prefer: 'wasm' });
    }
  });
});
