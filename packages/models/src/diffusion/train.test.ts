import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { presetConfig } from './presets.ts';
import { Rng } from '../rng.ts';
import { makeSchedule } from './schedule.ts';
import { createTrainer, type StepMetrics } from './train.ts';
import { createUNet, type UNet } from './unet.ts';
import { microUNetConfig } from '../testing/micro-unet.ts';

const micro = microUNetConfig({ dropout: 0.1 });

function images(b: number, r: number, c: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => tf.sub(tf.mul(new Rng(seed).uniform([b, r, r, c]), 2), 1) as tf.Tensor4D);
}

/** The smallest valid trainer options for `model`. */
const smallestOptions = (model: UNet) => ({
  model,
  schedule: makeSchedule({ kind: 'linear', T: 10 }),
  prediction: 'eps' as const,
  optimizer: { kind: 'adam' as const },
  lr: 1e-3,
  rng: new Rng(1),
});

describe('createTrainer', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  it('reports metrics and leaks no tensors (same count after 100 steps as after 10)', async () => {
    const model = createUNet({ ...micro, numClasses: 3, learnSigma: true }, 1);
    const trainer = createTrainer({
      model,
      schedule: makeSchedule({ kind: 'cosine', T: 100 }),
      prediction: 'v',
      loss: 'hybrid',
      optimizer: { kind: 'adamw', weightDecay: 0.01 },
      lr: { base: 1e-3, warmupSteps: 5, decay: 'cosine', totalSteps: 100 },
      clipNorm: 1,
      microBatch: 2,
      rng: new Rng(5),
    });
    const x = images(4, 8, 3, 1);
    const labels = tf.tensor1d([0, 1, 2, 1], 'int32');
    let after10 = 0;
    let last: StepMetrics | null = null;
    for (let i = 1; i <= 100; i++) {
      last = await trainer.step({ images: x, labels });
      if (i === 10) after10 = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(after10);
    expect(last!.step).toBe(100);
    expect(Number.isFinite(last!.loss)).toBe(true);
    expect(last!.gradNorm).toBeGreaterThan(0);
    expect(last!.lr).toBeGreaterThan(0);
    expect(last!.lr).toBeLessThan(1e-3);
    expect(last!.emaDecay).toBeCloseTo(100 / 109, 10); // (1+99)/(10+99)
    expect(last!.mse).toBeDefined();
    expect(last!.vlb).toBeDefined();
    expect(last!.lossByQuartile).toHaveLength(4);
    tf.dispose([x, labels]);
    trainer.dispose();
    model.dispose();
  }, 120_000);

  it('a fixed batch (same images, noise and t every step) overfits from ~1 to ≪ 0.1 in 60 Adam steps', async () => {
    const model = createUNet(presetConfig('tiny', { channels: 1 }), 3);
    const rng = new Rng(11);
    const trainer = createTrainer({
      model,
      schedule: makeSchedule({ kind: 'linear' }),
      prediction: 'eps',
      optimizer: { kind: 'adam' },
      lr: 3e-3,
      ema: false,
      rng,
    });
    const x = images(8, 16, 1, 2);
    const fixed = rng.getState();
    const losses: number[] = [];
    for (let i = 0; i < 60; i++) {
      rng.setState(fixed); // replay the same t and noise
      losses.push((await trainer.step({ images: x })).loss);
    }
    expect(losses[0]).toBeGreaterThan(0.6);
    expect(losses[0]).toBeLessThan(1.5);
    expect(Math.min(...losses.slice(-5))).toBeLessThan(0.05);
    x.dispose();
    trainer.dispose();
    model.dispose();
  }, 120_000);

  it('micro-batching gives the same update as the whole batch, and the same seed the same run', async () => {
    const run = async (microBatch?: number) => {
      const model = createUNet({ ...micro, dropout: 0 }, 4);
      // Move the zero-initialised output layers so every layer gets a gradient.
      for (const v of model.variables.values())
        v.assign(tf.tidy(() => tf.add(v, new Rng(9).normal(v.shape).mul(0.02))));
      const trainer = createTrainer({
        model,
        schedule: makeSchedule({ kind: 'linear', T: 50 }),
        prediction: 'eps',
        optimizer: { kind: 'sgd', momentum: 0 },
        lr: 0.05,
        ema: false,
        microBatch,
        rng: new Rng(3),
      });
      const x = images(6, 8, 3, 5);
      const metrics = await trainer.step({ images: x });
      const w = await model.variables.get('down.0.res.0.conv1.kernel')!.data();
      x.dispose();
      trainer.dispose();
      model.dispose();
      return { metrics, w };
    };
    const whole = await run();
    const again = await run();
    const split = await run(4); // micro-batches of 4 and 2
    expect(again.metrics).toEqual(whole.metrics);
    expect(split.metrics.loss).toBeCloseTo(whole.metrics.loss, 5);
    expect(split.metrics.gradNorm).toBeCloseTo(whole.metrics.gradNorm, 4);
    let maxDiff = 0;
    for (let i = 0; i < whole.w.length; i++) maxDiff = Math.max(maxDiff, Math.abs(whole.w[i]! - split.w[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('state round-trips: resuming continues exactly like never stopping (cpu)', async () => {
    await selectBackend({ prefer: 'cpu' });
    const build = () => {
      const model = createUNet({ ...micro, dropout: 0.1 }, 8);
      const trainer = createTrainer({
        model,
        schedule: makeSchedule({ kind: 'cosine', T: 100 }),
        prediction: 'eps',
        optimizer: { kind: 'adam' },
        lr: 1e-3,
        rng: new Rng(21),
      });
      return { model, trainer };
    };
    const x = images(2, 8, 3, 6);
    const a = build();
    const straight: number[] = [];
    for (let i = 0; i < 4; i++) straight.push((await a.trainer.step({ images: x })).loss);

    const b = build();
    for (let i = 0; i < 2; i++) await b.trainer.step({ images: x });
    const weights = new Map([...b.model.variables].map(([k, v]) => [k, v.clone()]));
    const st = b.trainer.getState();
    const saved = {
      ...st,
      optimizer: new Map([...st.optimizer].map(([k, v]) => [k, v.clone()])),
      ema: new Map([...st.ema!].map(([k, v]) => [k, v.clone()])),
    };
    const c = build();
    for (const [k, v] of c.model.variables) v.assign(weights.get(k)!);
    c.trainer.setState(saved);
    const resumed: number[] = [];
    for (let i = 0; i < 2; i++) resumed.push((await c.trainer.step({ images: x })).loss);
    expect(resumed).toEqual(straight.slice(2));
    for (const r of [a, b, c]) {
      r.trainer.dispose();
      r.model.dispose();
    }
    tf.dispose([x, ...weights.values(), ...saved.optimizer.values(), ...saved.ema.values()]);
    await selectBackend({ prefer: 'wasm' });
  }, 120_000);

  it('rejects bad configuration naming the field', () => {
    const model = createUNet(micro, 1);
    const base = smallestOptions(model);
    expect(() => createTrainer({ ...base, loss: 'hybrid' })).toThrow(/learnSigma/);
    expect(() => createTrainer({ ...base, microBatch: 0 })).toThrow(/trainer\.microBatch/);
    expect(() => createTrainer({ ...base, lr: -1 })).toThrow(/lr\.base/);
    model.dispose();
  });

  it('rejects a batch whose shape does not fit the model before any work, naming what it expected', async () => {
    const model = createUNet({ ...micro, numClasses: 2 }, 1);
    const trainer = createTrainer(smallestOptions(model));
    const { resolution: r, channels: c } = micro;
    const wrongSide = images(2, r * 2, c, 1);
    const right = images(2, r, c, 2);
    const threeLabels = tf.tensor1d([0, 1, 1], 'int32');
    await expect(trainer.step({ images: wrongSide })).rejects.toThrow(
      `batch.images must be [B, ${r}, ${r}, ${c}], got [2, ${r * 2}, ${r * 2}, ${c}]`,
    );
    await expect(trainer.step({ images: right, labels: threeLabels })).rejects.toThrow(
      'batch.labels must have 2 entries, got 3',
    );
    expect(trainer.stepCount).toBe(0);
    tf.dispose([wrongSide, right, threeLabels]);
    trainer.dispose();
    model.dispose();
  });
});
