import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { Rng } from '../rng.ts';
import { assignValues } from './actnorm.ts';
import { microGlowConfig } from '../testing/micro-glow.ts';
import { dequantize, glowToImages, numBins, toBins } from './data.ts';
import { createGlow, type Glow } from './model.ts';
import { glowPresetConfig } from './presets.ts';

/**
 * bits/dim on distributions whose answer is known in closed form. Data: every value uniform over the
 * n_bins bins, so the dequantized y is uniform on [−½, ½)^D and the data's own entropy is exactly n_bits
 * bits/dim.
 *  - A flow that is only the squeeze/split permutations, with the N(0, I) priors it starts with:
 *    E[−log N(y)] = ½·ln 2π + E[y²]/2 = ½·ln 2π + 1/24 nats per value, so
 *    bits/dim = n_bits + (½·ln 2π + 1/24)/ln 2 = n_bits + 1.38586.
 *  - The same after the actnorms' data-dependent init: y is scaled to unit variance (log-det ½·ln 12 per
 *    value), so bits/dim = n_bits + (½·ln 2πe − ½·ln 12)/ln 2 = n_bits + 0.25461: the Gaussian of the right
 *    variance pays 0.2546 bits/dim over the uniform's entropy.
 * With 64 images of 16×16×3 (49,152 values) the sampling error of the mean is ~2.5e-4 bits/dim; the
 * tolerance is 0.004.
 */
const TOL = 0.004;
const IDENTITY_EXCESS = (0.5 * Math.log(2 * Math.PI) + 1 / 24) / Math.LN2;
const ACTNORM_EXCESS = (0.5 * Math.log(2 * Math.PI * Math.E) - 0.5 * Math.log(12)) / Math.LN2;

const config = (nBits: number) => microGlowConfig({ resolution: 16, coupling: 'additive', nBits });

/** Images in [-1, 1] whose n-bit bins are uniform: bin·2^(8−n) as 8-bit values. */
function uniformBinImages(count: number, nBits: number, seed: number): tf.Tensor4D {
  const bins = numBins(nBits);
  const values = new Rng(seed).uniformIntArray(count * 16 * 16 * 3, bins);
  const images = Float32Array.from(values, (k) => (k * (256 / bins)) / 127.5 - 1);
  return tf.tensor4d(images, [count, 16, 16, 3]);
}

function uniformY(count: number, nBits: number, seed: number): tf.Tensor4D {
  const images = uniformBinImages(count, nBits, seed);
  const noise = new Rng(seed + 1).uniform(images.shape) as tf.Tensor4D;
  const y = dequantize(images, nBits, noise);
  tf.dispose([images, noise]);
  return y;
}

/** Sets every 1×1 convolution to the identity (L = I, U = 0, log s = 0): the flow is then permutations only. */
function identityInvConvs(model: Glow): void {
  for (const [name, v] of model.variables)
    if (/\.invconv\.(lower|upper|logs)$/.test(name)) assignValues(v, new Float32Array(v.size));
}

async function meanBpd(model: Glow, y: tf.Tensor4D): Promise<number> {
  const bpd = model.bitsPerDim(y);
  const values = await bpd.data();
  bpd.dispose();
  return Array.from(values).reduce((a, b) => a + b, 0) / values.length;
}

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

describe('bits/dim', () => {
  it('dequantize → bin centre → images gives back the images at n_bits exactly', () => {
    for (const nBits of [1, 5, 8]) {
      const images = uniformBinImages(2, nBits, 3);
      const back = glowToImages(dequantize(images, nBits, 'center'), nBits);
      // The same 8-bit values (float32 rescaling may differ from the float64 one in the last bit).
      expect(Array.from(toBins(back, 8).dataSync())).toEqual(Array.from(toBins(images, 8).dataSync()));
      const y = dequantize(images, nBits, new Rng(4).uniform(images.shape) as tf.Tensor4D);
      expect(tf.min(y).dataSync()[0]).toBeGreaterThanOrEqual(-0.5);
      expect(tf.max(y).dataSync()[0]).toBeLessThan(0.5);
      expect(Array.from(toBins(glowToImages(y, nBits), nBits).dataSync())).toEqual(
        Array.from(toBins(images, nBits).dataSync()),
      );
      tf.dispose([images, back, y]);
    }
  });

  for (const nBits of [1, 5, 8]) {
    it(`${nBits}-bit uniform data under the permutation-only flow: n_bits + ${IDENTITY_EXCESS.toFixed(5)}`, async () => {
      const model = createGlow(config(nBits), 1);
      identityInvConvs(model);
      const y = uniformY(64, nBits, 10 + nBits);
      const bpd = await meanBpd(model, y);
      expect(Math.abs(bpd - (nBits + IDENTITY_EXCESS))).toBeLessThan(TOL);
      y.dispose();
      model.dispose();
    });
  }

  it(`after the actnorms' data-dependent init: n_bits + ${ACTNORM_EXCESS.toFixed(5)}`, async () => {
    const model = createGlow(config(5), 2);
    identityInvConvs(model);
    const init = uniformY(64, 5, 20);
    model.initialize(init);
    const y = uniformY(64, 5, 30);
    const bpd = await meanBpd(model, y);
    expect(Math.abs(bpd - (5 + ACTNORM_EXCESS))).toBeLessThan(TOL);
    tf.dispose([init, y]);
    model.dispose();
  });

  it('an untrained glow-tiny (actnorm-initialised) cannot beat the entropy of uniform data', async () => {
    const model = createGlow(glowPresetConfig('glow-tiny', { nBits: 5 }), 3);
    const init = uniformY(32, 5, 40);
    model.initialize(init);
    const y = uniformY(64, 5, 50);
    const bpd = await meanBpd(model, y);
    expect(bpd).toBeGreaterThan(5 - TOL);
    // …and starts near the Gaussian-of-the-right-variance value, not far above it.
    expect(bpd).toBeLessThan(5 + 2 * ACTNORM_EXCESS);
    tf.dispose([init, y]);
    model.dispose();
  });
});
