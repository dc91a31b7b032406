import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeSchedule, type NoiseSchedule } from '../schedule.ts';
import { ddimSample } from './ddim.ts';
import { ddpmSample } from './ddpm.ts';
import { dpmSolverSample } from './dpm-solver.ts';
import { spacedTimesteps } from './timesteps.ts';
import type { Denoiser, Prediction } from './types.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const shape: [number, number, number, number] = [2, 4, 4, 3];

/** A fixed x0 inside (-1, 1) that the oracle denoisers know. */
function knownX0(): tf.Tensor4D {
  return tf.tidy(() => tf.sin(tf.range(0, 96).reshape(shape)).mul(0.9) as tf.Tensor4D);
}

/** A denoiser that knows x0 and returns exactly what a perfect model would predict at x_t. */
function oracle(schedule: NoiseSchedule, x0: tf.Tensor4D, prediction: Prediction): Denoiser {
  return (x, t) =>
    tf.tidy(() => {
      const steps = Array.from(t.dataSync());
      const ab = tf.tensor4d(
        steps.map((s) => schedule.alphasCumprod[s]!),
        [steps.length, 1, 1, 1],
      );
      const sa = tf.sqrt(ab);
      const so = tf.sqrt(tf.sub(1, ab));
      const eps = tf.div(tf.sub(x, tf.mul(sa, x0)), so);
      if (prediction === 'eps') return eps as tf.Tensor4D;
      if (prediction === 'v') return tf.sub(tf.mul(sa, eps), tf.mul(so, x0)) as tf.Tensor4D;
      return x0.clone();
    });
}

/** An imperfect model: ε̂ = 0.3·x (+0.2·label when labels are given), optionally with variance channels. */
function simpleDenoiser(varianceValue?: number): Denoiser {
  return (x, _t, labels) =>
    tf.tidy(() => {
      let out: tf.Tensor4D = tf.mul(x, 0.3);
      if (labels) out = tf.add(out, tf.cast(labels, 'float32').reshape([-1, 1, 1, 1]).mul(0.2));
      if (varianceValue !== undefined) out = tf.concat([out, tf.fill(out.shape, varianceValue)], 3);
      return out;
    });
}

async function values(t: tf.Tensor): Promise<Float32Array> {
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('samplers', { timeout: 60_000 }, () => {
  const schedule = makeSchedule({ kind: 'linear', T: 100 });

  it('return images of the requested shape inside [-1, 1]', async () => {
    for (const out of [
      await ddpmSample({ denoiser: simpleDenoiser(), schedule, prediction: 'eps', shape, seed: 1 }),
      await ddimSample({ denoiser: simpleDenoiser(), schedule, prediction: 'eps', shape, seed: 1, steps: 10 }),
    ]) {
      expect(out.shape).toEqual(shape);
      const v = await values(out);
      expect(Math.min(...v)).toBeGreaterThanOrEqual(-1);
      expect(Math.max(...v)).toBeLessThanOrEqual(1);
    }
  });

  it('are deterministic by seed: same seed identical bits, another seed different images', async () => {
    const base = { denoiser: simpleDenoiser(), schedule, prediction: 'eps' as const, shape, clipX0: false };
    const ddpmA = await values(await ddpmSample({ ...base, seed: 7, steps: 20 }));
    const ddpmB = await values(await ddpmSample({ ...base, seed: 7, steps: 20 }));
    const ddpmC = await values(await ddpmSample({ ...base, seed: 8, steps: 20 }));
    expect(Buffer.from(ddpmA.buffer).equals(Buffer.from(ddpmB.buffer))).toBe(true);
    expect(maxAbsDiff(ddpmA, ddpmC)).toBeGreaterThan(0.05);
    for (const eta of [0, 1]) {
      const a = await values(await ddimSample({ ...base, seed: 7, steps: 10, eta }));
      const b = await values(await ddimSample({ ...base, seed: 7, steps: 10, eta }));
      const c = await values(await ddimSample({ ...base, seed: 8, steps: 10, eta }));
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      expect(maxAbsDiff(a, c)).toBeGreaterThan(0.05);
    }
    // η = 0 draws no noise after x_T; η = 1 does, so the two differ from the same start.
    const det = await values(await ddimSample({ ...base, seed: 7, steps: 10, eta: 0 }));
    const sto = await values(await ddimSample({ ...base, seed: 7, steps: 10, eta: 1 }));
    expect(maxAbsDiff(det, sto)).toBeGreaterThan(0.01);
  });

  it('give each image its own noise stream: a request split into batches gives the same images', async () => {
    const base = { denoiser: simpleDenoiser(), schedule, prediction: 'eps' as const, seed: 11, steps: 8 };
    const whole = await values(await ddpmSample({ ...base, shape: [4, 4, 4, 3] }));
    const head = await values(await ddpmSample({ ...base, shape: [1, 4, 4, 3] }));
    const tail = await values(await ddpmSample({ ...base, shape: [3, 4, 4, 3], firstImageIndex: 1 }));
    expect(Array.from(head)).toEqual(Array.from(whole.subarray(0, 48)));
    expect(Array.from(tail)).toEqual(Array.from(whole.subarray(48)));
    expect(maxAbsDiff(whole.subarray(0, 48), whole.subarray(48, 96))).toBeGreaterThan(0.05);
  });

  it('DPM-Solver++ of order 1 is DDIM (η = 0), and its stochastic form of order 1 is DDPM, bit for bit up to rounding', async () => {
    const base = { denoiser: simpleDenoiser(), schedule, prediction: 'v' as const, shape, seed: 6, steps: 12 };
    for (const spacing of ['linspace', 'trailing'] as const) {
      const ddim = await values(await ddimSample({ ...base, spacing }));
      const ode1 = await values(await dpmSolverSample({ ...base, spacing, order: 1 }));
      const ddpm = await values(await ddpmSample({ ...base, spacing }));
      const sde1 = await values(await dpmSolverSample({ ...base, spacing, order: 1, stochastic: true }));
      expect(maxAbsDiff(ode1, ddim)).toBeLessThan(1e-5);
      expect(maxAbsDiff(sde1, ddpm)).toBeLessThan(1e-5);
      // Order 2 differs (it extrapolates from the previous x̂0), and so does the stochastic form from the ODE.
      const ode2 = await values(await dpmSolverSample({ ...base, spacing }));
      const sde2 = await values(await dpmSolverSample({ ...base, spacing, stochastic: true }));
      expect(maxAbsDiff(ode2, ode1)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(sde2, sde1)).toBeGreaterThan(1e-3);
    }
  });

  it('space timesteps: linspace spans [0, T−1], trailing starts at T−1 with full strides, leading starts at 0', () => {
    expect(spacedTimesteps(1000, 5)).toEqual([0, 250, 500, 749, 999]);
    expect(spacedTimesteps(1000, 5, 'trailing')).toEqual([199, 399, 599, 799, 999]);
    expect(spacedTimesteps(1000, 5, 'leading')).toEqual([0, 200, 400, 600, 800]);
    for (const spacing of ['linspace', 'trailing', 'leading'] as const) {
      expect(spacedTimesteps(100, 100, spacing)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      const ts = spacedTimesteps(1000, 37, spacing);
      expect(new Set(ts).size).toBe(37);
      expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    }
    expect(() => spacedTimesteps(1000, 5, 'middle' as never)).toThrow(/spacing must be one of/);
  });

  describe('recover x0 exactly from a denoiser that knows it', () => {
    for (const prediction of ['eps', 'v', 'x0'] as const) {
      for (const kind of ['linear', 'cosine'] as const) {
        it(`${prediction}-prediction, ${kind} schedule`, async () => {
          const s = makeSchedule({ kind, T: 100 });
          const x0 = knownX0();
          const expected = (await x0.data()) as Float32Array;
          const denoiser = oracle(s, x0, prediction);
          const runs = [
            ddpmSample({ denoiser, schedule: s, prediction, shape, seed: 3, clipX0: false }),
            ddpmSample({ denoiser, schedule: s, prediction, shape, seed: 3, steps: 10, variance: 'fixedLarge' }),
            ddimSample({ denoiser, schedule: s, prediction, shape, seed: 3, steps: 10, eta: 0 }),
            ddimSample({ denoiser, schedule: s, prediction, shape, seed: 3, steps: 10, eta: 0, clipX0: false }),
            ddimSample({ denoiser, schedule: s, prediction, shape, seed: 3, steps: 25, eta: 1, clipX0: false }),
            dpmSolverSample({ denoiser, schedule: s, prediction, shape, seed: 3, steps: 10 }),
            dpmSolverSample({ denoiser, schedule: s, prediction, shape, seed: 3, steps: 10, stochastic: true }),
          ];
          for (const run of runs) expect(maxAbsDiff(await values(await run), expected)).toBeLessThan(2e-3);
          x0.dispose();
        });
      }
    }
  });

  describe('match the exact variance of each step for Gaussian data N(0, σ²) and its optimal denoiser', () => {
    // For x0 ~ N(0, σ²) the optimal ε̂(x_t) is c_t·x_t and x̂0 = a_t·x_t, so every sampler step is linear
    // in x_t and the variance of the result follows a float64 recursion computed here from ᾱ alone.
    const sigma = 0.2; // small enough that the final clip to [-1, 1] (≥ 4σ) changes nothing
    const gaussShape: [number, number, number, number] = [4000, 2, 2, 1];
    const optimal =
      (s: NoiseSchedule, prediction: Prediction = 'eps'): Denoiser =>
      (x, t) =>
        tf.tidy(() => {
          const ab = s.alphasCumprod[t.dataSync()[0]!]!;
          const { a, c } = coefs(ab);
          const k = prediction === 'eps' ? c : prediction === 'x0' ? a : Math.sqrt(ab) * c - Math.sqrt(1 - ab) * a;
          return tf.mul(x, k) as tf.Tensor4D;
        });
    const coefs = (ab: number) => {
      const denom = ab * sigma * sigma + 1 - ab;
      return { c: Math.sqrt(1 - ab) / denom, a: (Math.sqrt(ab) * sigma * sigma) / denom };
    };
    const steps = (T: number, n: number) =>
      Array.from({ length: n }, (_, i) => (n === 1 ? T - 1 : Math.round((i * (T - 1)) / (n - 1))));
    function expectedDdpmStd(s: NoiseSchedule, n: number, large: boolean): number {
      const ts = steps(s.T, n);
      const abs = ts.map((t) => s.alphasCumprod[t]!);
      let variance = 1;
      for (let i = n - 1; i >= 0; i--) {
        const ab = abs[i]!;
        const abPrev = i > 0 ? abs[i - 1]! : 1;
        const beta = 1 - ab / abPrev;
        const k =
          ((Math.sqrt(abPrev) * beta) / (1 - ab)) * coefs(ab).a + (Math.sqrt(1 - beta) * (1 - abPrev)) / (1 - ab);
        const posterior = (beta * (1 - abPrev)) / (1 - ab);
        variance = k * k * variance + (i === 0 ? 0 : large ? beta : posterior);
      }
      return Math.sqrt(variance);
    }
    function expectedDdimStd(s: NoiseSchedule, n: number, eta: number): number {
      const ts = steps(s.T, n);
      let variance = 1;
      for (let i = n - 1; i >= 0; i--) {
        const ab = s.alphasCumprod[ts[i]!]!;
        const abPrev = i > 0 ? s.alphasCumprod[ts[i - 1]!]! : 1;
        const sig2 = eta * eta * ((1 - abPrev) / (1 - ab)) * (1 - ab / abPrev);
        const { a, c } = coefs(ab);
        const k = Math.sqrt(abPrev) * a + Math.sqrt(1 - abPrev - sig2) * c;
        variance = k * k * variance + sig2;
      }
      return Math.sqrt(variance);
    }
    async function std(p: Promise<tf.Tensor4D>): Promise<number> {
      const v = await values(await p);
      let sum = 0;
      let sumSq = 0;
      for (const x of v) {
        sum += x;
        sumSq += x * x;
      }
      return Math.sqrt(sumSq / v.length - (sum / v.length) ** 2);
    }
    for (const kind of ['linear', 'cosine'] as const) {
      it(`${kind} schedule`, async () => {
        const s = makeSchedule({ kind, T: 100 });
        const base = {
          denoiser: optimal(s),
          schedule: s,
          prediction: 'eps' as const,
          shape: gaussShape,
          seed: 4,
          clipX0: false,
        };
        const cases: Array<[Promise<tf.Tensor4D>, number]> = [
          [ddpmSample(base), expectedDdpmStd(s, 100, false)],
          [ddpmSample({ ...base, variance: 'fixedLarge' }), expectedDdpmStd(s, 100, true)],
          [ddpmSample({ ...base, steps: 10 }), expectedDdpmStd(s, 10, false)],
          [ddpmSample({ ...base, steps: 10, variance: 'fixedLarge' }), expectedDdpmStd(s, 10, true)],
          [ddimSample({ ...base, steps: 10, eta: 0 }), expectedDdimStd(s, 10, 0)],
          [ddimSample({ ...base, steps: 10, eta: 0.5 }), expectedDdimStd(s, 10, 0.5)],
          [ddimSample({ ...base, steps: 4, eta: 0 }), expectedDdimStd(s, 4, 0)],
          [ddimSample({ ...base, denoiser: optimal(s, 'v'), prediction: 'v', steps: 10 }), expectedDdimStd(s, 10, 0)],
          [ddimSample({ ...base, denoiser: optimal(s, 'x0'), prediction: 'x0', steps: 10 }), expectedDdimStd(s, 10, 0)],
          [
            ddpmSample({ ...base, denoiser: optimal(s, 'v'), prediction: 'v', steps: 10 }),
            expectedDdpmStd(s, 10, false),
          ],
        ];
        for (const [run, expected] of cases) {
          const got = await std(run);
          expect(Math.abs(got / expected - 1)).toBeLessThan(0.02);
        }
      });
    }
  });

  it('learned variance interpolates between β̃ (v = -1) and β (v = +1)', async () => {
    const base = { schedule, prediction: 'eps' as const, shape, seed: 5, steps: 20, clipX0: false };
    const small = await values(await ddpmSample({ ...base, denoiser: simpleDenoiser(), variance: 'fixedSmall' }));
    const large = await values(await ddpmSample({ ...base, denoiser: simpleDenoiser(), variance: 'fixedLarge' }));
    const learnedSmall = await values(await ddpmSample({ ...base, denoiser: simpleDenoiser(-1), variance: 'learned' }));
    const learnedLarge = await values(await ddpmSample({ ...base, denoiser: simpleDenoiser(1), variance: 'learned' }));
    expect(maxAbsDiff(small, large)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(learnedSmall, small)).toBeLessThan(1e-4);
    expect(maxAbsDiff(learnedLarge, large)).toBeLessThan(1e-4);
  });

  it('classifier-free guidance: scale 1 equals the conditional model, scale 0 the unconditional one', async () => {
    const labels = tf.tensor1d([1, 2], 'int32');
    const nullLabels = tf.tensor1d([0, 0], 'int32');
    const base = { denoiser: simpleDenoiser(), schedule, prediction: 'eps' as const, shape, seed: 9, steps: 10 };
    const conditional = await values(await ddimSample({ ...base, labels }));
    const unconditional = await values(await ddimSample({ ...base, labels: nullLabels }));
    const guided1 = await values(await ddimSample({ ...base, labels, guidanceScale: 1, nullLabel: 0 }));
    const guided0 = await values(await ddimSample({ ...base, labels, guidanceScale: 0, nullLabel: 0 }));
    const guided3 = await values(await ddimSample({ ...base, labels, guidanceScale: 3, nullLabel: 0 }));
    expect(maxAbsDiff(conditional, unconditional)).toBeGreaterThan(0.01);
    expect(maxAbsDiff(guided1, conditional)).toBeLessThan(1e-5);
    expect(maxAbsDiff(guided0, unconditional)).toBeLessThan(1e-5);
    expect(maxAbsDiff(guided3, conditional)).toBeGreaterThan(0.01);
    labels.dispose();
    nullLabels.dispose();
  });

  it('leak no tensors, report progress and stop when aborted', async () => {
    const labels = tf.tensor1d([1, 2], 'int32');
    const before = tf.memory().numTensors;
    const progress: Array<[number, number]> = [];
    const out = await ddpmSample({
      denoiser: simpleDenoiser(0.5),
      schedule,
      prediction: 'v',
      variance: 'learned',
      shape,
      seed: 2,
      steps: 8,
      labels,
      guidanceScale: 2,
      nullLabel: 0,
      onProgress: (step, total) => progress.push([step, total]),
    });
    out.dispose();
    const ddim = await ddimSample({
      denoiser: simpleDenoiser(),
      schedule,
      prediction: 'x0',
      shape,
      seed: 2,
      steps: 5,
      eta: 0.5,
    });
    ddim.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(progress).toEqual(Array.from({ length: 8 }, (_, i) => [i + 1, 8]));

    const controller = new AbortController();
    const aborted = ddimSample({
      denoiser: simpleDenoiser(),
      schedule,
      prediction: 'eps',
      shape,
      seed: 2,
      steps: 50,
      signal: controller.signal,
      onProgress: (step) => {
        if (step === 3) controller.abort();
      },
    });
    await expect(aborted).rejects.toThrow(/aborted/);
    expect(tf.memory().numTensors).toBe(before);
    labels.dispose();
  });

  it('reject inconsistent options with a message naming the field', async () => {
    const base = { schedule, prediction: 'eps' as const, shape, seed: 1 };
    await expect(ddpmSample({ ...base, denoiser: simpleDenoiser(), variance: 'learned' })).rejects.toThrow(
      /learned.*6 output channels/,
    );
    const labels = tf.tensor1d([1, 2], 'int32');
    await expect(
      ddimSample({ ...base, denoiser: simpleDenoiser(), steps: 5, labels, guidanceScale: 2 }),
    ).rejects.toThrow(/nullLabel/);
    await expect(ddimSample({ ...base, denoiser: simpleDenoiser(), steps: 500 })).rejects.toThrow(
      /steps must be an integer in \[1, 100\]/,
    );
    await expect(
      ddimSample({ ...base, denoiser: simpleDenoiser(), steps: 5, labels: tf.tensor1d([1], 'int32') }),
    ).rejects.toThrow(/labels/);
    labels.dispose();
  });
});
