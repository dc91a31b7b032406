import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Denoiser } from '../diffusion/samplers/types.ts';
import { makeSchedule, type NoiseSchedule } from '../diffusion/schedule.ts';
import { estimateVariationalBound, strataEdges, variationalBound } from './vlb.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const shape: [number, number, number, number] = [3, 4, 4, 2];

/** 8-bit pixel values rescaled to [-1, 1], including both edge bins. */
function pixels(): tf.Tensor4D {
  const values = Array.from({ length: 96 }, (_, i) => (i === 0 ? 0 : i === 1 ? 255 : (i * 37) % 256));
  return tf.tensor4d(
    values.map((v) => (v / 255) * 2 - 1),
    shape,
  );
}

function oracle(schedule: NoiseSchedule, x0: tf.Tensor4D, varianceValue?: number): Denoiser {
  return (x, t) =>
    tf.tidy(() => {
      const ab = schedule.alphasCumprod[t.dataSync()[0]!]!;
      const eps = tf.div(tf.sub(x, tf.mul(x0, Math.sqrt(ab))), Math.sqrt(1 - ab)) as tf.Tensor4D;
      return varianceValue === undefined
        ? eps
        : (tf.concat([eps, tf.fill(eps.shape, varianceValue)], 3) as tf.Tensor4D);
    });
}

/** Improved DDPM's tanh approximation of Φ, in float64. */
const cdf = (x: number) => 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

describe('variationalBound', { timeout: 60_000 }, () => {
  const schedule = makeSchedule({ kind: 'linear', T: 40 });

  it('for a denoiser that knows x0 is the prior KL plus the decoder NLL of a Gaussian centred on x0', async () => {
    const x0 = pixels();
    const values = Array.from(await x0.data());
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const result = await variationalBound({
      denoiser: oracle(schedule, x0),
      schedule,
      prediction: 'eps',
      x0,
      seed: 1,
      onProgress: (step) => progress.push(step),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(progress.length).toBe(40);
    const dims = 32;
    const sigma = Math.sqrt(schedule.posteriorVariance[1]!);
    const abT = schedule.alphasCumprod[39]!;
    for (let i = 0; i < 3; i++) {
      let decoder = 0;
      let prior = 0;
      for (let j = 0; j < dims; j++) {
        const x = values[i * dims + j]!;
        const upper = cdf(1 / 255 / sigma);
        const lower = cdf(-1 / 255 / sigma);
        decoder -= Math.log(x < -0.999 ? upper : x > 0.999 ? 1 - lower : upper - lower);
        prior += 0.5 * (-1 - Math.log(1 - abT) + (1 - abT) + abT * x * x);
      }
      expect(result.nats[i]).toBeCloseTo(decoder + prior, 2);
      expect(result.bitsPerDim[i]).toBeCloseTo((decoder + prior) / (dims * Math.LN2), 4);
      expect(result.priorBitsPerDim[i]).toBeCloseTo(prior / (dims * Math.LN2), 5);
    }
    const klTerms = result.termsBitsPerDim.subarray(1).reduce((a, b) => a + b, 0);
    expect(klTerms).toBeLessThan(1e-3);
    x0.dispose();
  });

  it('is larger for a worse model, deterministic by seed, and learned v = -1 equals fixedSmall', async () => {
    const x0 = pixels();
    const base = { schedule, prediction: 'eps' as const, x0, seed: 2 };
    const good = await variationalBound({ ...base, denoiser: oracle(schedule, x0) });
    const zero: Denoiser = (x) => tf.zerosLike(x);
    const bad = await variationalBound({ ...base, denoiser: zero });
    const badAgain = await variationalBound({ ...base, denoiser: zero });
    expect(bad.meanBitsPerDim).toBeGreaterThan(good.meanBitsPerDim + 0.5);
    expect(Array.from(badAgain.nats)).toEqual(Array.from(bad.nats));
    const noisy =
      (v?: number): Denoiser =>
      (x, t) =>
        tf.tidy(() => {
          const out = tf.mul(x, 0.5) as tf.Tensor4D;
          void t;
          return v === undefined ? out : (tf.concat([out, tf.fill(out.shape, v)], 3) as tf.Tensor4D);
        });
    const small = await variationalBound({ ...base, denoiser: noisy() });
    const learned = await variationalBound({ ...base, denoiser: noisy(-1), variance: 'learned' });
    for (let i = 0; i < 3; i++) expect(learned.nats[i]).toBeCloseTo(small.nats[i]!, 2);
    const large = await variationalBound({ ...base, denoiser: noisy(), variance: 'fixedLarge' });
    expect(Math.abs(large.meanBitsPerDim - small.meanBitsPerDim)).toBeGreaterThan(1e-3);
    x0.dispose();
  });

  describe('estimateVariationalBound (stratified timesteps)', () => {
    const halfX: Denoiser = (x) => tf.tidy(() => tf.mul(x, 0.5) as tf.Tensor4D);

    it('for a denoiser that knows x0 is the closed-form bound (prior KL + decoder NLL) at any number of timesteps', async () => {
      const x0 = pixels();
      const full = await variationalBound({ denoiser: oracle(schedule, x0), schedule, prediction: 'eps', x0, seed: 1 });
      const before = tf.memory().numTensors;
      const estimate = await estimateVariationalBound({
        denoiser: oracle(schedule, x0),
        schedule,
        prediction: 'eps',
        x0,
        seed: 7,
        timesteps: 4,
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(estimate.timesteps.length).toBe(4);
      // One t in each stratum of 1 … 39, strata growing geometrically.
      const edges = strataEdges(40, 4);
      expect(edges).toEqual([1, 3, 6, 16, 40]);
      estimate.timesteps.forEach((t, j) => {
        expect(t).toBeGreaterThanOrEqual(edges[j]!);
        expect(t).toBeLessThan(edges[j + 1]!);
      });
      expect(strataEdges(1000, 8)).toEqual([1, 2, 6, 13, 32, 75, 178, 422, 1000]);
      expect(strataEdges(10, 9)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (let i = 0; i < 3; i++) expect(estimate.bitsPerDim[i]).toBeCloseTo(full.bitsPerDim[i]!, 4);
      expect(estimate.meanBitsPerDim).toBeCloseTo(full.meanBitsPerDim, 4);
      x0.dispose();
    });

    it('is unbiased: its mean over seeds matches the full bound, which it equals with every timestep', async () => {
      const x0 = pixels();
      const base = { denoiser: halfX, schedule, prediction: 'eps' as const, x0 };
      const seeds = Array.from({ length: 24 }, (_, i) => 100 + i);
      const fullBounds: number[] = [];
      const every: number[] = [];
      const sampled: number[] = [];
      for (const seed of seeds) {
        fullBounds.push((await variationalBound({ ...base, seed })).meanBitsPerDim);
        every.push((await estimateVariationalBound({ ...base, seed, timesteps: 39, batchSize: 2 })).meanBitsPerDim);
        sampled.push((await estimateVariationalBound({ ...base, seed, timesteps: 4 })).meanBitsPerDim);
      }
      const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
      const sd = (a: number[]) => Math.sqrt(a.reduce((x, y) => x + (y - mean(a)) ** 2, 0) / (a.length - 1));
      // Every timestep: the full bound on other noise draws (same distribution), so the means agree within noise.
      const fullMean = mean(fullBounds);
      const tolerance = (a: number[]) => (4 * Math.hypot(sd(a), sd(fullBounds))) / Math.sqrt(seeds.length) + 1e-6;
      expect(Math.abs(mean(every) - fullMean)).toBeLessThan(tolerance(every));
      expect(Math.abs(mean(sampled) - fullMean)).toBeLessThan(tolerance(sampled));
      // Deterministic by seed.
      const again = await estimateVariationalBound({ ...base, seed: seeds[0]!, timesteps: 4 });
      expect(again.meanBitsPerDim).toBe(sampled[0]);
      console.info(
        `VLB of x ↦ x/2 on 3 images (T 40): full ${fullMean.toFixed(4)} ± ${sd(fullBounds).toFixed(4)} bits/dim, ` +
          `stratified 4 timesteps ${mean(sampled).toFixed(4)} ± ${sd(sampled).toFixed(4)}`,
      );
      x0.dispose();
    });

    it('refuses a timestep count below 1 by name', async () => {
      const x0 = pixels();
      await expect(
        estimateVariationalBound({ denoiser: halfX, schedule, prediction: 'eps', x0, seed: 1, timesteps: 0 }),
      ).rejects.toThrow(/timesteps must be an integer ≥ 1/);
      x0.dispose();
    });
  });
});
