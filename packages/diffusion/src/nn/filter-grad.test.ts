import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { generatedPath, generatedSource, watFiles } from '../../scripts/build-wasm.ts';
import { selectBackend } from '../backend.ts';
import { wasmFilterGrad, wasmFilterGradAvailable } from './filter-grad.ts';

function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

interface Case { b: number; h: number; w: number; k: number; stride: number; cin: number; cout: number }

/** dW and db by the cpu backend's own Conv2DBackpropFilter (a plain loop: slow, but the reference). */
async function reference(c: Case, x: Float32Array, dy: Float32Array): Promise<[Float32Array, Float32Array]> {
  await selectBackend({ prefer: 'cpu', fallback: false });
  const ho = Math.ceil(c.h / c.stride);
  const wo = Math.ceil(c.w / c.stride);
  const xt = tf.tensor4d(x, [c.b, c.h, c.w, c.cin]);
  const dyt = tf.tensor4d(dy, [c.b, ho, wo, c.cout]);
  // d/dW Σ conv(x, W)·dy = the filter gradient for upstream gradient dy (cpu autodiff: Conv2DBackpropFilter).
  const w0 = tf.zeros([c.k, c.k, c.cin, c.cout]);
  const dw = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xt, w as tf.Tensor4D, c.stride, 'same'), dyt)))(w0);
  const db = tf.sum(dyt, [0, 1, 2]);
  const out: [Float32Array, Float32Array] = [(await dw.data()) as Float32Array, (await db.data()) as Float32Array];
  tf.dispose([xt, dyt, w0, dw, db]);
  return out;
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

const cases: Case[] = [
  { b: 2, h: 8, w: 8, k: 3, stride: 1, cin: 4, cout: 8 }, // the kernel's own block sizes, no channel padding
  { b: 3, h: 6, w: 10, k: 3, stride: 1, cin: 8, cout: 16 }, // non-square, several blocks each way
  { b: 2, h: 8, w: 8, k: 3, stride: 2, cin: 8, cout: 8 }, // downsampling, even size (pad 0 before, 1 after)
  { b: 2, h: 7, w: 9, k: 3, stride: 2, cin: 4, cout: 8 }, // downsampling, odd sizes (pad 1 on both sides)
  { b: 2, h: 6, w: 6, k: 1, stride: 1, cin: 12, cout: 8 }, // 1×1 (the skip convs)
  { b: 2, h: 5, w: 5, k: 5, stride: 1, cin: 4, cout: 8 }, // wider kernel
  { b: 1, h: 3, w: 2, k: 5, stride: 1, cin: 4, cout: 8 }, // taps that reach past the whole image
  { b: 1, h: 1, w: 1, k: 3, stride: 1, cin: 4, cout: 8 }, // one pixel: only the centre tap sees it
  { b: 2, h: 8, w: 8, k: 3, stride: 1, cin: 3, cout: 32 }, // RGB stem: input channels padded to 4
  { b: 2, h: 8, w: 8, k: 3, stride: 1, cin: 16, cout: 3 }, // RGB output: output channels padded to 8
  { b: 2, h: 5, w: 7, k: 3, stride: 2, cin: 5, cout: 6 }, // both padded, strided, odd
];

describe('wasm filter-gradient kernel', () => {
  afterAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  it('is built from the current filter-grad.wat (run npm run build:wasm -w @dapple/diffusion after editing it)', async () => {
    for (const wat of watFiles()) expect(readFileSync(generatedPath(wat), 'utf8')).toBe(await generatedSource(wat));
  });

  it('runs on the wasm backend and not elsewhere', async () => {
    await selectBackend({ prefer: 'cpu', fallback: false });
    expect(wasmFilterGradAvailable()).toBe(false);
    await selectBackend({ prefer: 'wasm', fallback: false });
    expect(wasmFilterGradAvailable()).toBe(true);
  });

  for (const c of cases) {
    it(`matches Conv2DBackpropFilter: B${c.b} ${c.h}×${c.w}, k${c.k}, stride ${c.stride}, ${c.cin}→${c.cout}`, async () => {
      const ho = Math.ceil(c.h / c.stride);
      const wo = Math.ceil(c.w / c.stride);
      const x = randomArray(c.b * c.h * c.w * c.cin, 11);
      const dy = randomArray(c.b * ho * wo * c.cout, 12);
      const [refDw, refDb] = await reference(c, x, dy);
      await selectBackend({ prefer: 'wasm', fallback: false });
      expect(wasmFilterGradAvailable()).toBe(true);
      const xt = tf.tensor4d(x, [c.b, c.h, c.w, c.cin]);
      const dyt = tf.tensor4d(dy, [c.b, ho, wo, c.cout]);
      const before = tf.memory().numTensors;
      const { dw, db } = wasmFilterGrad(xt, dyt, c.k, c.stride);
      expect(tf.memory().numTensors).toBe(before + 2); // the padded copies are freed
      expect(dw.shape).toEqual([c.k, c.k, c.cin, c.cout]);
      expect(db.shape).toEqual([c.cout]);
      expect(maxRelErr((await dw.data()) as Float32Array, refDw)).toBeLessThan(1e-5);
      expect(maxRelErr((await db.data()) as Float32Array, refDb)).toBeLessThan(1e-5);
      // The inputs are read, never written.
      expect(Array.from(await xt.data())).toEqual(Array.from(x));
      expect(Array.from(await dyt.data())).toEqual(Array.from(dy));
      tf.dispose([xt, dyt, dw, db]);
    });
  }
});
