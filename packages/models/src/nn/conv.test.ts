import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { conv2dCustomGrad } from './conv.ts';
import { kernelCalls } from './kernel-calls.ts';
import { wasmConvKernelsAvailable } from './wasm-conv.ts';
import { wasmBatchMatMulFits } from './wasm-matmul.ts';
import { maxRelErr, randomArray } from './test-arrays.ts';

interface Case {
  h: number;
  w: number;
  k: number;
  stride: number;
  cin: number;
  cout: number;
}

async function grads(c: Case, custom: boolean): Promise<Float32Array[]> {
  const b = 2;
  const x = tf.tensor4d(randomArray(b * c.h * c.w * c.cin, 1), [b, c.h, c.w, c.cin]);
  const w = tf.tensor4d(randomArray(c.k * c.k * c.cin * c.cout, 2), [c.k, c.k, c.cin, c.cout]);
  const bias = tf.tensor1d(randomArray(c.cout, 3));
  const ho = Math.ceil(c.h / c.stride);
  const wo = Math.ceil(c.w / c.stride);
  const r = tf.tensor4d(randomArray(b * ho * wo * c.cout, 4), [b, ho, wo, c.cout]);
  const f = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => {
    const y = custom
      ? conv2dCustomGrad(xi as tf.Tensor4D, wi as tf.Tensor4D, bi as tf.Tensor1D, c.stride)
      : tf.add(tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, c.stride, 'same'), bi);
    return tf.sum(tf.mul(y, r)); // random weighting so every output position matters differently
  };
  const g = tf.grads(f)([x, w, bias]);
  const y = f(x, w, bias);
  const out = [
    ...(await Promise.all(g.map((t) => t.data() as Promise<Float32Array>))),
    (await y.data()) as Float32Array,
  ];
  tf.dispose([x, w, bias, r, y, ...g]);
  return out;
}

const cases: Case[] = [
  { h: 8, w: 8, k: 3, stride: 1, cin: 3, cout: 5 },
  { h: 8, w: 8, k: 3, stride: 2, cin: 4, cout: 6 },
  { h: 7, w: 9, k: 3, stride: 2, cin: 2, cout: 3 },
  { h: 12, w: 6, k: 3, stride: 2, cin: 6, cout: 5 }, // even, non-square: the phase-conv input gradient
  { h: 6, w: 6, k: 1, stride: 1, cin: 5, cout: 4 },
  { h: 8, w: 8, k: 1, stride: 2, cin: 3, cout: 2 },
  { h: 5, w: 5, k: 5, stride: 1, cin: 2, cout: 2 },
  { h: 5, w: 7, k: 3, stride: 1, cin: 3, cout: 4 }, // odd, non-square: the shifted-row filter gradient
  { h: 3, w: 3, k: 5, stride: 1, cin: 2, cout: 3 }, // taps reaching past the whole image
  { h: 4, w: 4, k: 3, stride: 1, cin: 1, cout: 2 }, // one channel: the zero rows around it are all there is
  { h: 8, w: 12, k: 3, stride: 1, cin: 8, cout: 4 }, // on wasm, the input gradient in our own conv kernel
  { h: 8, w: 8, k: 3, stride: 2, cin: 4, cout: 3 }, // on wasm, the stride-2 phase conv in our own conv kernel
  { h: 4, w: 4, k: 1, stride: 1, cin: 8, cout: 8 }, // on wasm, the 1×1 forward and input gradient in our matmul kernel
  { h: 4, w: 6, k: 1, stride: 1, cin: 12, cout: 16 }, // the same, several blocks of rows and columns
  { h: 8, w: 8, k: 3, stride: 1, cin: 8, cout: 16 }, // on wasm, forward and input gradient by Winograd
  { h: 6, w: 16, k: 3, stride: 1, cin: 4, cout: 8 }, // on wasm, Winograd forward, direct input gradient (4 channels)
  { h: 8, w: 8, k: 3, stride: 1, cin: 8, cout: 3 }, // on wasm, Winograd forward on 3 channels padded to 8 (RGB out)
  { h: 8, w: 16, k: 3, stride: 1, cin: 3, cout: 8 }, // on wasm, Winograd input gradient padded alike (RGB stem)
];

describe('conv2dCustomGrad', () => {
  afterAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  for (const c of cases) {
    it(`matches cpu autodiff: ${c.h}×${c.w}, k${c.k}, stride ${c.stride}, ${c.cin}→${c.cout}`, async () => {
      await selectBackend({ prefer: 'cpu', fallback: false });
      const reference = await grads(c, false);
      const customOnCpu = await grads(c, true);
      await selectBackend({ prefer: 'wasm', fallback: false });
      const customOnWasm = await grads(c, true);
      for (let i = 0; i < reference.length; i++) {
        expect(customOnCpu[i]!.length).toBe(reference[i]!.length);
        expect(maxRelErr(customOnCpu[i]!, reference[i]!)).toBeLessThan(1e-4);
        expect(maxRelErr(customOnWasm[i]!, reference[i]!)).toBeLessThan(1e-4);
      }
    });
  }

  it('on wasm, runs a 1×1 conv forward in our matmul kernel with the bias, never in XNNPACK', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    expect(wasmBatchMatMulFits([48, 12], [12, 16], false, false)).toBe(true); // registers the kernel
    const calls = await kernelCalls(['DappleBatchMatMul', 'FusedConv2D', 'Conv2D'], () =>
      grads({ h: 4, w: 6, k: 1, stride: 1, cin: 12, cout: 16 }, true),
    );
    // the forward twice (under tf.grads and for the value), the input gradient once
    expect(calls).toEqual({ DappleBatchMatMul: 3, FusedConv2D: 0, Conv2D: 0 });
  });

  it('on wasm, runs the RGB convs (to and from 3 channels) by Winograd on padded channels, never in XNNPACK', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    expect(wasmConvKernelsAvailable()).toBe(true); // registers the kernels
    for (const c of [
      { h: 8, w: 8, k: 3, stride: 1, cin: 8, cout: 3 },
      { h: 8, w: 16, k: 3, stride: 1, cin: 3, cout: 8 },
    ]) {
      const calls = await kernelCalls(
        ['DappleConvWinograd4', 'DappleConvWinograd', 'DappleConvPadded', 'FusedConv2D', 'Conv2D'],
        () => grads(c, true),
      );
      const winograd = calls['DappleConvWinograd4']! + calls['DappleConvWinograd']!;
      // RGB out: the forward twice (under tf.grads and for the value); its input gradient reads dy's 3 channels (the
      // direct conv). RGB stem: its forward reads 3 input channels (the direct conv); its input gradient, to 3, by
      // Winograd.
      expect(winograd, JSON.stringify(c)).toBe(c.cout === 3 ? 2 : 1);
      expect(calls['FusedConv2D'], JSON.stringify(c)).toBe(0);
      expect(calls['Conv2D'], JSON.stringify(c)).toBe(0);
    }
  });

  it('rejects an even kernel with a clear message', async () => {
    const x = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    const w = tf.zeros([2, 2, 1, 1]) as tf.Tensor4D;
    expect(() => conv2dCustomGrad(x, w, tf.zeros([1]) as tf.Tensor1D, 1)).toThrow(/square and odd/);
    tf.dispose([x, w]);
  });
});
