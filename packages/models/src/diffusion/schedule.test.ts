import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { coefFromSteps, makeSchedule, qPosterior, qSample } from './schedule.ts';

describe('makeSchedule', () => {
  it('linear: betas 1e-4 → 0.02 and ᾱ equals a float64 product loop', () => {
    const s = makeSchedule({ kind: 'linear' });
    expect(s.T).toBe(1000);
    expect(s.betas[0]).toBeCloseTo(1e-4, 12);
    expect(s.betas[999]).toBeCloseTo(0.02, 12);
    let prod = 1;
    for (let t = 0; t < 1000; t++) {
      const beta = 1e-4 + ((0.02 - 1e-4) * t) / 999;
      expect(s.betas[t]).toBeCloseTo(beta, 14);
      prod *= 1 - beta;
      expect(s.alphasCumprod[t]! / prod).toBeCloseTo(1, 12);
    }
    // Known value for DDPM's schedule: ᾱ_T ≈ 4.04e-5.
    expect(s.alphasCumprod[999]).toBeGreaterThan(3.9e-5);
    expect(s.alphasCumprod[999]).toBeLessThan(4.2e-5);
  });

  it('linear with T=100 is rescaled to keep the noise level', () => {
    const s = makeSchedule({ kind: 'linear', T: 100 });
    expect(s.betas[0]).toBeCloseTo(1e-3, 12);
    expect(s.betas[99]).toBeCloseTo(0.2, 12);
  });

  it('cosine: ᾱ_t = f(t+1)/f(0) with s = 0.008 and β ≤ 0.999', () => {
    const T = 1000;
    const s = makeSchedule({ kind: 'cosine', T });
    const f = (t: number) => Math.cos((((t / T + 0.008) / 1.008) * Math.PI) / 2) ** 2;
    let prod = 1;
    for (let t = 0; t < T; t++) {
      const beta = Math.min(1 - f(t + 1) / f(t), 0.999);
      prod *= 1 - beta;
      expect(s.alphasCumprod[t]! / prod).toBeCloseTo(1, 10);
      expect(s.betas[t]).toBeLessThanOrEqual(0.999);
    }
    expect(s.alphasCumprod[T / 2]! / (f(T / 2 + 1) / f(0))).toBeCloseTo(1, 10);
    expect(s.betas[T - 1]).toBe(0.999);
  });

  for (const kind of ['linear', 'cosine'] as const) {
    it(`${kind}: ᾱ strictly decreasing, SNR decreasing, betas in (0,1)`, () => {
      const s = makeSchedule({ kind, T: 500 });
      for (let t = 1; t < s.T; t++) {
        expect(s.alphasCumprod[t]!).toBeLessThan(s.alphasCumprod[t - 1]!);
        expect(s.snr(t)).toBeLessThan(s.snr(t - 1));
        expect(s.alphasCumprodPrev[t]).toBe(s.alphasCumprod[t - 1]);
      }
      expect(s.alphasCumprodPrev[0]).toBe(1);
      for (const b of s.betas) expect(b > 0 && b < 1).toBe(true);
    });

    it(`${kind}: posterior variance β̃ = β(1-ᾱ_{t-1})/(1-ᾱ_t), 0 ≤ β̃ ≤ β, coefficients reproduce x0 and x_t`, () => {
      const s = makeSchedule({ kind, T: 200 });
      expect(s.posteriorVariance[0]).toBe(0);
      expect(Number.isFinite(s.posteriorLogVarianceClipped[0]!)).toBe(true);
      expect(s.posteriorLogVarianceClipped[0]).toBeCloseTo(Math.log(s.posteriorVariance[1]!), 12);
      for (let t = 1; t < s.T; t++) {
        const expected = (s.betas[t]! * (1 - s.alphasCumprod[t - 1]!)) / (1 - s.alphasCumprod[t]!);
        expect(s.posteriorVariance[t]! / expected).toBeCloseTo(1, 12);
        expect(s.posteriorVariance[t]!).toBeLessThanOrEqual(s.betas[t]! + 1e-15);
        expect(s.posteriorLogVarianceClipped[t]).toBeCloseTo(Math.log(expected), 10);
        // The posterior mean of x_{t-1} when x_t = √ᾱ_t x0 (noise-free) must be √ᾱ_{t-1} x0.
        const mean = s.posteriorMeanCoef1[t]! + s.posteriorMeanCoef2[t]! * s.sqrtAlphasCumprod[t]!;
        expect(mean).toBeCloseTo(Math.sqrt(s.alphasCumprodPrev[t]!), 10);
      }
    });
  }

  it('rejects bad options with a message naming the field', () => {
    expect(() => makeSchedule({ kind: 'linear', T: 0 })).toThrow(/schedule\.T/);
    expect(() => makeSchedule({ kind: 'quadratic' as never })).toThrow(/schedule\.kind/);
  });
});

describe('qSample / qPosterior', () => {
  it('mixes x0 and noise with per-sample coefficients', async () => {
    await tf.setBackend('cpu');
    const s = makeSchedule({ kind: 'linear', T: 100 });
    const x0 = tf.ones([2, 2, 2, 1]) as tf.Tensor4D;
    const noise = tf.fill([2, 2, 2, 1], 2) as tf.Tensor4D;
    const t = tf.tensor1d([0, 99], 'int32');
    const xt = qSample(s, x0, t, noise);
    const v = await xt.data();
    expect(v[0]).toBeCloseTo(s.sqrtAlphasCumprod[0]! + 2 * s.sqrtOneMinusAlphasCumprod[0]!, 5);
    expect(v[7]).toBeCloseTo(s.sqrtAlphasCumprod[99]! + 2 * s.sqrtOneMinusAlphasCumprod[99]!, 5);
    const post = qPosterior(s, x0, xt, t);
    const m = await post.mean.data();
    expect(m[7]).toBeCloseTo(s.posteriorMeanCoef1[99]! + s.posteriorMeanCoef2[99]! * v[7]!, 5);
    const c = await coefFromSteps(s.betas, [3, 5]).data();
    expect(c[1]).toBeCloseTo(s.betas[5]!, 7);
    tf.dispose([x0, noise, t, xt, post.mean, post.variance, post.logVariance]);
  });
});
