import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { makeSchedule } from '../diffusion/schedule.ts';
import { createTrainer, type StepMetrics } from '../diffusion/train.ts';
import { createUNet } from '../diffusion/unet.ts';
import { microUNetConfig } from '../testing/micro-unet.ts';
import { Rng } from '../rng.ts';
import { DataParallelTrainer, splitEvenly, type DataParallelTrainerConfig } from './data-parallel-trainer.ts';
import { ReplicaError } from './replica-handle.ts';
import { weightsHash } from './weights-hash.ts';

/**
 * Data-parallel training in real worker threads (each a TF.js wasm instance of its own). Worker threads take a
 * few seconds each to start (tsx + TF.js + wasm compile), so the cases share what they can.
 */
const micro = microUNetConfig({ dropout: 0.1, numClasses: 3 });
const LR = 1e-3;
const STEPS = 3;

function config(): DataParallelTrainerConfig {
  const model = createUNet(micro, 7);
  // Move the zero-initialised output layers so every layer gets a gradient.
  for (const v of model.variables.values()) v.assign(tf.tidy(() => tf.add(v, new Rng(1).normal(v.shape).mul(0.02))));
  return {
    model,
    schedule: makeSchedule({ kind: 'cosine', T: 100 }),
    prediction: 'eps',
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    lr: LR,
    clipNorm: 0.5, // below the gradient norms here: the clipping path runs
    microBatch: 2,
    labelDropout: 0.3,
    rng: new Rng(3),
  };
}

const images = () => tf.tidy(() => tf.sub(tf.mul(new Rng(2).uniform([7, 8, 8, 3]), 2), 1) as tf.Tensor4D);
const labels = () => tf.tensor1d([0, 1, 2, 0, 1, 2, 1], 'int32');

async function weights(model: { variables: Map<string, tf.Variable> }): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of model.variables) out.set(name, (await v.data()) as Float32Array);
  return out;
}

function maxAbsDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let max = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - y[i]!));
  }
  return max;
}

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', fallback: false });
});
afterAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

describe('splitEvenly', () => {
  it('cuts a batch into contiguous, nearly equal slices', () => {
    expect(splitEvenly(10, 3)).toEqual([4, 3, 3]);
    expect(splitEvenly(32, 2)).toEqual([16, 16]);
    expect(splitEvenly(3, 3)).toEqual([1, 1, 1]);
  });
});

describe('DataParallelTrainer (worker threads)', () => {
  it('N workers reproduce one worker at the same global batch, up to float summation order', async () => {
    const x = images();
    const y = labels();
    const run = async (workers: number, serialSlices = false) => {
      const cfg = config();
      const trainer =
        workers === 1
          ? createTrainer(cfg)
          : await DataParallelTrainer.create(cfg, { workers, backend: 'wasm', verifyEvery: 1, serialSlices });
      const metrics: StepMetrics[] = [];
      for (let i = 0; i < STEPS; i++) metrics.push(await trainer.step({ images: x, labels: y }));
      const w = await weights(cfg.model);
      const ema = await weights({
        variables: new Map([...trainer.ema!.shadow].map(([k, t]) => [k, t as tf.Variable])),
      });
      if (trainer instanceof DataParallelTrainer) {
        await trainer.verifyReplicas(); // every replica holds rank 0's weights, bit for bit
        expect(trainer.lastStep?.images).toEqual(splitEvenly(7, workers));
        // Where the step went, per rank: the last rank to finish its slice waited for nobody.
        const stats = trainer.lastStep!;
        for (const perRank of [stats.computeMs, stats.computeCpuMs, stats.exchangeCpuMs, stats.barrierWaitMs])
          expect(perRank).toHaveLength(workers);
        expect(Math.min(...stats.barrierWaitMs)).toBe(0);
        // Thread CPU times read to the scheduler tick (thread-cpu.ts): this micro model's may read 0, never less.
        if (process.platform === 'linux')
          for (const cpu of [...stats.computeCpuMs, ...stats.exchangeCpuMs]) expect(cpu).toBeGreaterThanOrEqual(0);
        // Each rank its own thread, told apart by kernel thread id (the bench's per-thread CPU split needs them).
        expect(trainer.threadIds).toHaveLength(workers);
        if (process.platform === 'linux') expect(new Set(trainer.threadIds).size).toBe(workers);
        await trainer.close();
      } else trainer.dispose();
      cfg.model.dispose();
      return { metrics, w, ema };
    };
    const one = await run(1);
    const byWorkers = new Map<number, Awaited<ReturnType<typeof run>>>();
    for (const workers of [2, 3]) {
      const many = await run(workers);
      byWorkers.set(workers, many);
      // Step 1 starts from the same weights and every image gets the same t, noise, label coin and dropout
      // mask (step-noise.ts): its per-image losses are bit-identical, so the loss is too.
      expect(many.metrics[0]!.loss).toBe(one.metrics[0]!.loss);
      expect(many.metrics[0]!.lossByQuartile).toEqual(one.metrics[0]!.lossByQuartile);
      expect(many.metrics.map((m) => m.step)).toEqual([1, 2, 3]);
      for (let i = 0; i < STEPS; i++) {
        expect(many.metrics[i]!.gradNorm).toBeCloseTo(one.metrics[i]!.gradNorm, 5);
        expect(many.metrics[i]!.loss).toBeCloseTo(one.metrics[i]!.loss, 5);
      }
      // The gradients differ only by float32 summation order (~1e-7 relative: the slices' sums are added in
      // another order, see step-noise.test.ts). Adam(W) divides each update by √v̂, so such a difference moves
      // a weight by about that fraction of lr per step — except where a gradient is ~0 and the reordering
      // flips its sign, which can move it by up to ~lr per step. Measured here: ≤ 2.7e-6 after 3 steps at lr 1e-3
      // (2 and 3 workers), i.e. ~1e-3·lr per step; the bound below is 1e-2·lr per step.
      const diff = maxAbsDiff(one.w, many.w);
      expect(diff).toBeLessThan(1e-2 * LR * STEPS);
      expect(maxAbsDiff(one.ema, many.ema)).toBeLessThan(1e-2 * LR * STEPS);
      // …and the weights did move: this is not comparing two unchanged models.
      const start = await weights(config().model);
      expect(maxAbsDiff(start, many.w)).toBeGreaterThan(0.5 * LR);
    }
    // The serialSlices diagnostic only reorders in time when the slices run: the same sums, bit for bit.
    const serial = await run(2, true);
    expect(serial.w).toEqual(byWorkers.get(2)!.w);
    expect(serial.metrics.map((m) => m.loss)).toEqual(byWorkers.get(2)!.metrics.map((m) => m.loss));
    tf.dispose([x, y]);
  }, 180_000);

  it('a replica that dies mid-step fails the step, names the worker, and leaves rank 0 at the last whole step', async () => {
    const cfg = config();
    const trainer = await DataParallelTrainer.create(cfg, { workers: 2, backend: 'wasm' });
    const x = images();
    const y = labels();
    try {
      await trainer.step({ images: x, labels: y });
      const before = await weightsHash(cfg.model.variables);
      const stepping = trainer.step({ images: x, labels: y });
      void trainer.threads[0]!.terminate(); // killed while it computes its slice
      await expect(stepping).rejects.toThrow(ReplicaError);
      await expect(stepping).rejects.toThrow(/CPU worker 2 of 2 .*stopped .*step 2 failed/);
      // Nothing of step 2 reached rank 0's weights or optimizer: a checkpoint now saves step 1 exactly.
      expect(trainer.stepCount).toBe(1);
      expect(trainer.getState().step).toBe(1);
      expect(await weightsHash(cfg.model.variables)).toBe(before);
      // The trainer stays failed: no step runs on a missing replica.
      await expect(trainer.step({ images: x, labels: y })).rejects.toThrow(/CPU worker 2 of 2/);
    } finally {
      await trainer.close();
      tf.dispose([x, y]);
      cfg.model.dispose();
    }
  }, 120_000);

  it("re-copies rank 0's state into the replicas after setState (a resumed checkpoint); a batch smaller than the workers", async () => {
    const cfg = config();
    const trainer = await DataParallelTrainer.create(cfg, { workers: 2, backend: 'wasm', verifyEvery: 1 });
    const x = images();
    const y = labels();
    try {
      await trainer.step({ images: x, labels: y });
      const saved = trainer.getState();
      const snapshot = {
        ...saved,
        optimizer: new Map([...saved.optimizer].map(([k, t]) => [k, t.clone()])),
        ema: new Map([...saved.ema!].map(([k, t]) => [k, t.clone()])),
      };
      const w1 = new Map([...cfg.model.variables].map(([k, v]) => [k, v.clone()]));
      await trainer.step({ images: x, labels: y });
      // Back to step 1 (as train.ts does when it resumes): weights, then state.
      for (const [k, v] of cfg.model.variables) v.assign(w1.get(k)!);
      trainer.setState(snapshot);
      // verifyEvery 1: this step fails unless the replica got step 1's weights and moments.
      const m = await trainer.step({ images: x, labels: y });
      expect(m.step).toBe(2);
      // A batch smaller than the worker count: the second worker adds an empty slice.
      const one = { images: x.slice(0, 1), labels: y.slice(0, 1) };
      const small = await trainer.step(one);
      expect(trainer.lastStep?.images).toEqual([1, 0]);
      expect(Number.isFinite(small.loss)).toBe(true);
      tf.dispose([one.images, one.labels]);
      tf.dispose([...w1.values(), ...snapshot.optimizer.values(), ...snapshot.ema.values()]);
    } finally {
      await trainer.close();
      tf.dispose([x, y]);
      cfg.model.dispose();
    }
  }, 120_000);
});
