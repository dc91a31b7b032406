import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { Rng } from '../rng.ts';
import { assignValues } from './actnorm.ts';
import type { GlowConfig } from './config.ts';
import { microGlowConfig } from '../testing/micro-glow.ts';
import { dequantize } from './data.ts';
import {
  actnormRef,
  bruteForceLogDet,
  channelMatMulRef,
  couplingRef,
  splitRef,
  squeezeRef,
  type Shape3,
} from './float64-reference.ts';
import { identity, matMul } from './linalg.ts';
import { createGlow, type Glow } from './model.ts';
import { countGlowParams, glowPresetConfig, glowPresetInfo } from './presets.ts';

/**
 * The whole model: f⁻¹(f(x)) = x within 1e-4 (max |error| over the image, float32, 2–3 levels of K steps),
 * log-det against a brute-force float64 Jacobian of an independent re-implementation (within 1e-3 absolute on
 * a 16-value image), sampling consistency, parameter counts, argument errors.
 */
const MODEL_INVERSE_TOL = 1e-4;

const micro = microGlowConfig({ hiddenChannels: 16 });

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function perturb(model: Glow, seed: number, scale = 0.2): void {
  const rng = new Rng(seed);
  for (const v of model.variables.values()) {
    const d = v.dataSync();
    assignValues(
      v,
      Float32Array.from(rng.normalArray(v.size), (n, i) => d[i]! + n * scale),
    );
  }
}

function flowInput(c: GlowConfig, batch: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const shape: [number, number, number, number] = [batch, c.resolution, c.resolution, c.channels];
  return tf.tidy(() => {
    const images = tf.clipByValue(tf.mul(rng.normal(shape), 0.6), -1, 1) as tf.Tensor4D;
    return dequantize(images, c.nBits, rng.uniform(shape) as tf.Tensor4D);
  });
}

/** The model's forward map y → (all latents, flattened in order) in float64, from its parameter values. */
function referenceForward(model: Glow): (y: Float64Array) => Float64Array {
  const c = model.config;
  const v = (name: string) => model.variables.get(name)!.dataSync();
  const weight = (prefix: string, n: number) => {
    const lower = v(`${prefix}.lower`);
    const upper = v(`${prefix}.upper`);
    const logs = v(`${prefix}.logs`);
    const l = identity(n);
    const u = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (j < i) l[i * n + j] = lower[i * n + j]!;
        if (j > i) u[i * n + j] = upper[i * n + j]!;
        if (j === i) u[i * n + j] = Math.exp(logs[i]!);
      }
    return matMul(l, u, n);
  };
  return (y) => {
    let h = y;
    let s: Shape3 = { h: c.resolution, w: c.resolution, c: c.channels };
    const outs: Float64Array[] = [];
    for (let i = 0; i < c.levels; i++) {
      h = squeezeRef(h, s);
      s = { h: s.h / 2, w: s.w / 2, c: s.c * 4 };
      const pixels = s.h * s.w;
      for (let k = 0; k < c.depth; k++) {
        const p = `levels.${i}.steps.${k}`;
        h = actnormRef(h, s.c, v(`${p}.actnorm.bias`), v(`${p}.actnorm.logs`));
        h = channelMatMulRef(h, pixels, weight(`${p}.invconv`, s.c), s.c, s.c);
        const conv = (n: string) => ({ kernel: v(`${p}.coupling.${n}.kernel`), bias: v(`${p}.coupling.${n}.bias`) });
        h = couplingRef(h, s, {
          kind: c.coupling,
          hidden: c.hiddenChannels,
          conv1: conv('conv1'),
          conv2: conv('conv2'),
          out: conv('out'),
        });
      }
      if (i < c.levels - 1) {
        const [z1, z2] = splitRef(h, pixels, s.c, s.c / 2);
        outs.push(z2);
        h = z1;
        s = { ...s, c: s.c / 2 };
      } else outs.push(h);
    }
    const all = new Float64Array(outs.reduce((n, o) => n + o.length, 0));
    let off = 0;
    for (const o of outs) {
      all.set(o, off);
      off += o.length;
    }
    return all;
  };
}

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

describe('Glow model', () => {
  it('parameter counts: arithmetic = allocated; presets sized like the UNet presets', () => {
    for (const config of [
      micro,
      { ...micro, numClasses: 4, coupling: 'additive' as const },
      glowPresetConfig('glow-tiny'),
    ]) {
      const model = createGlow(config, 1);
      expect(model.paramCount()).toBe(countGlowParams(config));
      model.dispose();
    }
    const info = glowPresetInfo();
    const params = Object.fromEntries(info.map((p) => [p.name, p.params]));
    expect(params['glow-tiny']).toBeGreaterThan(100_000);
    expect(params['glow-tiny']).toBeLessThan(300_000);
    expect(params['glow-small']! / 1e6).toBeGreaterThan(0.8);
    expect(params['glow-small']! / 1e6).toBeLessThan(1.5);
    expect(params['glow-base']! / 1e6).toBeGreaterThan(40);
    expect(countGlowParams(glowPresetConfig('glow-tiny', { numClasses: 10 }))).toBeGreaterThan(params['glow-tiny']!);
  });

  for (const [name, config] of [
    ['affine, 2 levels', micro],
    ['additive, 3 levels, 1 channel', { ...micro, coupling: 'additive' as const, levels: 3, channels: 1 }],
    ['class-conditional', { ...micro, numClasses: 3 }],
    ['glow-tiny', glowPresetConfig('glow-tiny')],
  ] as const) {
    it(`${name}: f⁻¹(f(y)) = y within ${MODEL_INVERSE_TOL}, latents hold exactly D values`, () => {
      const model = createGlow(config, 2);
      const y = flowInput(config, 3, 1);
      model.initialize(y, config.numClasses ? tf.tensor1d([0, 1, 2], 'int32') : undefined);
      // Off the zero-initialised start, by a step's worth of training (larger random kernels in 64-wide
      // couplings make scales σ(·) near 0, whose division in the inverse amplifies float32 rounding).
      perturb(model, 3, 0.02);
      const latents = model.encode(y);
      const dims = latents.reduce((n, z) => n + z.size / 3, 0);
      expect(dims).toBe(config.resolution ** 2 * config.channels);
      expect(latents.map((z) => z.shape)).toEqual(model.latentShapes(3));
      const back = model.inverse(latents);
      expect(maxAbsDiff(back.dataSync(), y.dataSync())).toBeLessThan(MODEL_INVERSE_TOL);
      tf.dispose([y, back, ...latents]);
      model.dispose();
    });
  }

  it('log-det of the whole flow = log|det J| of a float64 re-implementation (brute-force Jacobian)', () => {
    const config = microGlowConfig({ resolution: 4, channels: 1, nBits: 8 });
    const model = createGlow(config, 4);
    const y = flowInput(config, 1, 5);
    model.initialize(flowInput(config, 8, 6));
    perturb(model, 7, 0.2);
    const { latents, logdet, logPrior } = model.forward(y);
    const ref = referenceForward(model);
    const yv = Float64Array.from(y.dataSync());
    const flat = new Float64Array(16);
    let off = 0;
    for (const z of latents) {
      flat.set(z.dataSync(), off);
      off += z.size;
    }
    expect(maxAbsDiff(flat, ref(yv))).toBeLessThan(1e-4);
    const brute = bruteForceLogDet(ref, yv);
    expect(Math.abs(brute)).toBeGreaterThan(0.5); // a non-trivial Jacobian
    expect(Math.abs(logdet.dataSync()[0]! - brute)).toBeLessThan(1e-3);
    tf.dispose([y, logdet, logPrior, ...latents]);
    model.dispose();
  });

  it('images in a batch do not interact', () => {
    const model = createGlow(micro, 5);
    const y = flowInput(micro, 4, 8);
    model.initialize(y);
    perturb(model, 9, 0.05);
    const all = model.logDensity(y).dataSync();
    for (let i = 0; i < 4; i++) {
      const one = y.slice([i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
      expect(model.logDensity(one).dataSync()[0]).toBeCloseTo(all[i]!, 2);
      one.dispose();
    }
    y.dispose();
    model.dispose();
  });

  it('decodeEps: encode(decodeEps(ε)) inverts it; at temperature 0 an untrained model decodes to latents 0', () => {
    const model = createGlow(micro, 6);
    const y0 = flowInput(micro, 2, 10);
    model.initialize(y0);
    const rng = new Rng(11);
    const eps = model.latentShapes(2).map((s) => rng.normal(s) as tf.Tensor4D);
    const y = model.decodeEps(eps, { temperature: 1 });
    const latents = model.encode(y);
    // The priors are N(0, I) before training (zero-initialised), so the latents are ε itself.
    latents.forEach((z, i) => expect(maxAbsDiff(z.dataSync(), eps[i]!.dataSync())).toBeLessThan(1e-3));
    const cold = model.decodeEps(eps, { temperature: 0 });
    for (const z of model.encode(cold)) expect(maxAbsDiff(z.dataSync(), new Float32Array(z.size))).toBeLessThan(1e-4);
    tf.dispose([y0, y, cold, ...eps, ...latents]);
    model.dispose();
  });

  it('encodeEps is the inverse of decodeEps at T = 1, priors and class condition included', () => {
    // A trained-like class-conditional model: non-zero priors (split convs, top mean/logs, class offsets).
    const config = { ...micro, numClasses: 3 };
    const model = createGlow(config, 8);
    const y = flowInput(config, 4, 12);
    const labels = tf.tensor1d([0, 1, 2, 1], 'int32');
    model.initialize(y, labels);
    perturb(model, 13, 0.1);
    const eps = model.encodeEps(y, labels);
    expect(eps.map((e) => e.shape)).toEqual(model.latentShapes(4));
    const back = model.decodeEps(eps, { labels, temperature: 1 });
    expect(maxAbsDiff(back.dataSync(), y.dataSync())).toBeLessThan(1e-3);
    // ε is z standardised under its (class's) prior: not z itself, and another class gives another ε.
    const other = model.encodeEps(y, tf.tensor1d([2, 2, 0, 0], 'int32'));
    expect(maxAbsDiff(other[0]!.dataSync(), eps[0]!.dataSync())).toBeGreaterThan(1e-2);
    const latents = model.encode(y);
    latents.forEach((z, i) => expect(maxAbsDiff(z.dataSync(), eps[i]!.dataSync())).toBeGreaterThan(1e-2));
    expect(() => model.encodeEps(y)).toThrow(/glow\.encodeEps: labels are required/);
    tf.dispose([y, labels, back, ...eps, ...other, ...latents]);
    model.dispose();
  });

  it('rejects bad configs, inputs and missing labels with errors that name the field', () => {
    expect(() => createGlow({ ...micro, resolution: 12, levels: 3 })).toThrow(
      /glow.resolution \(12\) must be divisible by 2\^levels = 8/,
    );
    expect(() => createGlow({ ...micro, nBits: 9 })).toThrow(/glow.nBits must be an integer in \[1, 8\]/);
    expect(() => createGlow({ ...micro, coupling: 'bogus' as never })).toThrow(/glow.coupling/);
    const model = createGlow({ ...micro, numClasses: 3 });
    const y = flowInput(micro, 2, 1);
    expect(() => model.forward(y)).toThrow(/glow.forward: labels are required/);
    expect(() => model.forward(y, tf.tensor1d([0], 'int32'))).toThrow(/labels must have 2 entries/);
    expect(() => model.forward(tf.zeros([1, 4, 4, 3]) as tf.Tensor4D)).toThrow(/input must be \[B, 8, 8, 3\]/);
    expect(() => model.inverse([tf.zeros([1, 2, 2, 3]) as tf.Tensor4D])).toThrow(/expected 2 latents/);
    expect(() =>
      model.decodeEps(
        model.latentShapes(1).map((s) => tf.zeros(s) as tf.Tensor4D),
        { temperature: -1 },
      ),
    ).toThrow(/temperature must be a number ≥ 0/);
    y.dispose();
    model.dispose();
  });
});
