import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import {
  diffusionLoss,
  discretizedGaussianLogLikelihood,
  lossByQuartile,
  predictionTarget,
  predictionToEps,
  predictionToX0,
  vlbTerm,
} from './losses.ts';
import { makeSchedule, qSample } from './schedule.ts';

const schedule = makeSchedule({ kind: 'cosine', T: 1000 });

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  return (await tf.max(tf.abs(tf.sub(a, b))).data())[0]!;
}

describe('losses', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'cpu' });
  });

  for (const prediction of ['eps', 'v', 'x0'] as const) {
    it(`${prediction}: the target converts back to the true ε and x0; a perfect prediction has zero loss`, async () => {
      const x0 = tf.randomUniform([3, 4, 4, 2], -1, 1) as tf.Tensor4D;
      const noise = tf.randomNormal([3, 4, 4, 2]) as tf.Tensor4D;
      const t = tf.tensor1d([1, 400, 950], 'int32');
      const xt = qSample(schedule, x0, t, noise);
      const target = predictionTarget(prediction, schedule, x0, noise, t);
      expect(await maxAbsDiff(predictionToEps(prediction, schedule, target, xt, t), noise)).toBeLessThan(2e-3);
      expect(await maxAbsDiff(predictionToX0(prediction, schedule, target, xt, t), x0)).toBeLessThan(2e-3);
      const { loss } = diffusionLoss({ kind: 'simple', prediction }, schedule, target, x0, xt, noise, t);
      expect((await loss.data())[0]).toBeLessThan(1e-10);
      const wrong = diffusionLoss(
        { kind: 'simple', prediction },
        schedule,
        tf.zerosLike(target) as tf.Tensor4D,
        x0,
        xt,
        noise,
        t,
      );
      expect((await wrong.loss.data())[0]).toBeCloseTo((await tf.mean(tf.square(target)).data())[0]!, 5);
    });
  }

  it('vlb: KL is 0 for the true posterior, and matches a float64 reference otherwise', async () => {
    const x0 = tf.tensor4d([0.5, -0.25], [2, 1, 1, 1]);
    const noise = tf.tensor4d([0.3, -1.2], [2, 1, 1, 1]);
    const t = tf.tensor1d([10, 500], 'int32');
    const xt = qSample(schedule, x0, t, noise);
    // Perfect ε and v = −1 ⇒ model variance = β̃_t: KL = 0.
    const perfect = tf.concat([noise, tf.fill([2, 1, 1, 1], -1)], 3) as tf.Tensor4D;
    const kl0 = await vlbTerm('eps', schedule, perfect, x0, xt, t).data();
    expect(Math.abs(kl0[0]!)).toBeLessThan(1e-4);
    expect(Math.abs(kl0[1]!)).toBeLessThan(1e-4);
    // ε off by 0.1 and v = 0.5: compare with the closed form in float64.
    const out = tf.concat([tf.add(noise, 0.1), tf.fill([2, 1, 1, 1], 0.5)], 3) as tf.Tensor4D;
    const got = await vlbTerm('eps', schedule, out, x0, xt, t).data();
    const xtv = await xt.data();
    [10, 500].forEach((step, i) => {
      const ab = schedule.alphasCumprod[step]!;
      const x0v = [0.5, -0.25][i]!;
      const epsHat = [0.3, -1.2][i]! + 0.1;
      const x0Hat = Math.max(-1, Math.min(1, (xtv[i]! - Math.sqrt(1 - ab) * epsHat) / Math.sqrt(ab)));
      const c1 = schedule.posteriorMeanCoef1[step]!;
      const c2 = schedule.posteriorMeanCoef2[step]!;
      const mq = c1 * x0v + c2 * xtv[i]!;
      const mp = c1 * x0Hat + c2 * xtv[i]!;
      const lvq = schedule.posteriorLogVarianceClipped[step]!;
      const frac = 0.75;
      const lvp = frac * Math.log(schedule.betas[step]!) + (1 - frac) * lvq;
      const kl = 0.5 * (-1 + lvp - lvq + Math.exp(lvq - lvp) + (mq - mp) ** 2 * Math.exp(-lvp));
      expect(got[i]! / (kl / Math.LN2)).toBeCloseTo(1, 2);
    });
  });

  it('discretised Gaussian likelihood sums to 1 over the 256 pixel values', async () => {
    const values = tf.linspace(-1, 1, 256);
    const ll = discretizedGaussianLogLikelihood(values, tf.scalar(0.1), tf.scalar(Math.log(0.3 ** 2)));
    const total = (await tf.sum(tf.exp(ll)).data())[0]!;
    expect(total).toBeCloseTo(1, 2);
  });

  it('hybrid: the vlb term trains only the variance channels (stop-gradient on the mean)', async () => {
    const x0 = tf.randomUniform([2, 4, 4, 1], -1, 1) as tf.Tensor4D;
    const noise = tf.randomNormal([2, 4, 4, 1]) as tf.Tensor4D;
    const t = tf.tensor1d([0, 300], 'int32');
    const xt = qSample(schedule, x0, t, noise);
    const out = tf.randomNormal([2, 4, 4, 2], 0, 0.5) as tf.Tensor4D;
    const hybrid = tf.grad(
      (o: tf.Tensor) =>
        diffusionLoss({ kind: 'hybrid', prediction: 'eps' }, schedule, o as tf.Tensor4D, x0, xt, noise, t).loss,
    )(out);
    const simpleOnly = tf.grad((o: tf.Tensor) =>
      tf.mean(tf.square(tf.sub(o.slice([0, 0, 0, 0], [-1, -1, -1, 1]), noise))),
    )(out);
    const hybridMean = hybrid.slice([0, 0, 0, 0], [-1, -1, -1, 1]);
    const hybridVar = hybrid.slice([0, 0, 0, 1], [-1, -1, -1, 1]);
    expect(await maxAbsDiff(hybridMean, simpleOnly.slice([0, 0, 0, 0], [-1, -1, -1, 1]))).toBeLessThan(1e-6);
    expect((await tf.max(tf.abs(hybridVar)).data())[0]).toBeGreaterThan(0);
    const terms = diffusionLoss({ kind: 'hybrid', prediction: 'eps' }, schedule, out, x0, xt, noise, t);
    expect(terms.vlb?.shape).toEqual([2]);
    expect(() => diffusionLoss({ kind: 'hybrid', prediction: 'eps' }, schedule, noise, x0, xt, noise, t)).toThrow(
      /learnSigma/,
    );
  });

  it('lossByQuartile buckets by t', () => {
    expect(lossByQuartile([1, 3, 5, 7, 9], [0, 249, 250, 999, 998], 1000)).toEqual([2, 5, null, 8]);
  });
});
