import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { groupNorm } from './groupnorm.ts';
import { setWasmGroupNormForward, wasmGroupNormAvailable, wasmGroupNormForwardAvailable } from './wasm-groupnorm.ts';
import { addPerSampleChannels, bmm, dense, scaleShiftPerSampleChannels, silu, upsample2x } from './ops.ts';
import { kernelCalls } from './kernel-calls.ts';
import { wasmBatchMatMulFits } from './wasm-matmul.ts';
import { maxRelErr, randomArray } from './test-arrays.ts';

type Fn = (...xs: tf.Tensor[]) => tf.Tensor;

/** Value and gradients of Σ f(inputs)·r, with r a fixed random weighting. */
async function valueAndGrads(f: Fn, shapes: number[][]): Promise<Float32Array[]> {
  const inputs = shapes.map((s, i) =>
    tf.tensor(
      randomArray(
        s.reduce((a, b) => a * b, 1),
        11 + i,
        2,
      ),
      s,
    ),
  );
  const y0 = f(...inputs);
  const r = tf.tensor(randomArray(y0.size, 99, 2), y0.shape);
  const loss = (...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), r));
  const g = tf.grads(loss)(inputs);
  const out = [
    (await y0.data()) as Float32Array,
    ...(await Promise.all(g.map((t) => t.data() as Promise<Float32Array>))),
  ];
  tf.dispose([...inputs, y0, r, ...g]);
  return out;
}

function referenceGroupNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, groups: number): tf.Tensor {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const xg = x.reshape([n, h, w, groups, c / groups]);
  const { mean, variance } = tf.moments(xg, [1, 2, 4], true);
  const xhat = tf.div(tf.sub(xg, mean), tf.sqrt(tf.add(variance, 1e-5))).reshape([n, h, w, c]);
  return tf.add(tf.mul(xhat, g), b);
}

interface Case {
  name: string;
  custom: Fn;
  reference: Fn;
  shapes: number[][];
}

function groupNormSiluCase(name: string, groups: number, xShape: number[]): Case {
  const c = xShape[3]!;
  return {
    name,
    custom: (x, g, b) => groupNorm(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, groups, { silu: true }),
    reference: (x, g, b) => {
      const z = referenceGroupNorm(x, g, b, groups);
      return tf.mul(z, tf.sigmoid(z));
    },
    shapes: [xShape, [c], [c]],
  };
}

const cases: Case[] = [
  {
    name: 'dense with bias',
    custom: (x, w, b) => dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
    reference: (x, w, b) => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b),
    shapes: [[6, 4], [4, 5], [5]],
  },
  {
    name: 'dense, kernel-sized (on wasm both gradients in our matmul kernels)',
    custom: (x, w, b) => dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
    reference: (x, w, b) => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b),
    shapes: [[6, 8], [8, 16], [16]],
  },
  {
    name: 'dense without bias',
    custom: (x, w) => dense(x as tf.Tensor2D, w as tf.Tensor2D),
    reference: (x, w) => tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    shapes: [
      [3, 7],
      [7, 2],
    ],
  },
  {
    name: 'bmm',
    custom: (a, b) => bmm(a as tf.Tensor3D, b as tf.Tensor3D),
    reference: (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D),
    shapes: [
      [2, 5, 3],
      [2, 3, 4],
    ],
  },
  {
    name: 'bmm with b transposed',
    custom: (a, b) => bmm(a as tf.Tensor3D, b as tf.Tensor3D, { transposeB: true }),
    reference: (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true),
    shapes: [
      [2, 5, 3],
      [2, 4, 3],
    ],
  },
  {
    // Block-sized: on wasm the product and both gradients run in our matmul kernels (all three forms).
    name: 'bmm, kernel-sized (attention scores and output)',
    custom: (q, k, v) =>
      bmm(tf.softmax(bmm(q as tf.Tensor3D, k as tf.Tensor3D, { transposeB: true })) as tf.Tensor3D, v as tf.Tensor3D),
    reference: (q, k, v) =>
      tf.matMul(tf.softmax(tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D, false, true)), v as tf.Tensor3D),
    shapes: [
      [3, 16, 8],
      [3, 16, 8],
      [3, 16, 8],
    ],
  },
  {
    name: 'addPerSampleChannels',
    custom: (x, v) => addPerSampleChannels(x as tf.Tensor4D, v as tf.Tensor2D),
    reference: (x, v) => tf.add(x, v.reshape([2, 1, 1, 3])),
    shapes: [
      [2, 4, 4, 3],
      [2, 3],
    ],
  },
  {
    name: 'scaleShiftPerSampleChannels',
    custom: (x, s, b) => scaleShiftPerSampleChannels(x as tf.Tensor4D, s as tf.Tensor2D, b as tf.Tensor2D),
    reference: (x, s, b) => tf.add(tf.mul(x, tf.add(s, 1).reshape([2, 1, 1, 3])), b.reshape([2, 1, 1, 3])),
    shapes: [
      [2, 4, 4, 3],
      [2, 3],
      [2, 3],
    ],
  },
  { name: 'silu', custom: (x) => silu(x), reference: (x) => tf.mul(x, tf.sigmoid(x)), shapes: [[3, 4, 5]] },
  {
    name: 'upsample2x',
    custom: (x) => upsample2x(x as tf.Tensor4D),
    // Not tf.image.resizeNearestNeighbor: its cpu gradient is wrong for non-square inputs (TF.js 4.22).
    reference: (x) => {
      const a = x.reshape([2 * 3 * 4, 1, 3]);
      const rows = tf.concat([a, a], 1).reshape([2 * 3, 1, 8 * 3]);
      return tf.concat([rows, rows], 1).reshape([2, 6, 8, 3]);
    },
    shapes: [[2, 3, 4, 3]],
  },
  {
    name: 'groupNorm (4 groups of 2)',
    custom: (x, g, b) => groupNorm(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 4),
    reference: (x, g, b) => referenceGroupNorm(x, g, b, 4),
    shapes: [[2, 3, 5, 8], [8], [8]],
  },
  {
    name: 'groupNorm (1 group)',
    custom: (x, g, b) => groupNorm(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1),
    reference: (x, g, b) => referenceGroupNorm(x, g, b, 1),
    shapes: [[3, 4, 4, 6], [6], [6]],
  },
  groupNormSiluCase('groupNorm + SiLU (4 groups of 2)', 4, [2, 3, 5, 8]),
  groupNormSiluCase('groupNorm + SiLU (3 groups of 2: channels not in fours, TF.js ops on wasm too)', 3, [2, 4, 3, 6]),
  {
    name: 'groupNorm (2 groups of 8, one pixel)',
    custom: (x, g, b) => groupNorm(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 2),
    reference: (x, g, b) => referenceGroupNorm(x, g, b, 2),
    shapes: [[3, 1, 1, 16], [16], [16]],
  },
];

describe('hand-written gradients match TF.js autodiff on cpu', () => {
  afterAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });
  for (const c of cases) {
    it(c.name, async () => {
      await selectBackend({ prefer: 'cpu', fallback: false });
      const reference = await valueAndGrads(c.reference, c.shapes);
      const onCpu = await valueAndGrads(c.custom, c.shapes);
      await selectBackend({ prefer: 'wasm', fallback: false });
      const onWasm = await valueAndGrads(c.custom, c.shapes);
      if (c.name.startsWith('groupNorm') && c.shapes[0]![3]! % 4 === 0) {
        expect(wasmGroupNormAvailable(c.shapes[0]![3]!)).toBe(true);
        expect(wasmGroupNormForwardAvailable(c.shapes[0]![3]!)).toBe(true);
      }
      expect(onCpu).toHaveLength(reference.length);
      for (let i = 0; i < reference.length; i++) {
        expect(maxRelErr(onCpu[i]!, reference[i]!), `output ${i} on cpu`).toBeLessThan(1e-4);
        expect(maxRelErr(onWasm[i]!, reference[i]!), `output ${i} on wasm`).toBeLessThan(1e-4);
      }
    });
  }
});

describe('dense on wasm', () => {
  it('runs its forward in our matmul kernel with the bias, never in XNNPACK', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    expect(wasmBatchMatMulFits([8, 16], [16, 24], false, false)).toBe(true); // registers the kernel
    const [x, w, b] = [tf.ones([8, 16]), tf.ones([16, 24]), tf.ones([24])] as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    let y: tf.Tensor | undefined;
    const calls = await kernelCalls(['DappleBatchMatMul', '_FusedMatMul', 'BatchMatMul'], () => {
      y = dense(x, w, b);
    });
    expect(calls).toEqual({ DappleBatchMatMul: 1, _FusedMatMul: 0, BatchMatMul: 0 });
    expect(Array.from(await y!.data()).every((v) => v === 17)).toBe(true);
    tf.dispose([x, w, b, y!]);
  });
});

describe('the GroupNorm forward kernel on wasm', () => {
  afterAll(() => setWasmGroupNormForward(true));
  const kernelCases: { name: string; groups: number; shape: number[]; silu: boolean; scale: number }[] = [
    { name: '3 groups of 4, odd sizes, + SiLU', groups: 3, shape: [2, 5, 3, 12], silu: true, scale: 2 },
    {
      name: '8 groups of 4, the small UNet’s first level, + SiLU',
      groups: 8,
      shape: [2, 32, 32, 32],
      silu: true,
      scale: 2,
    },
    { name: '2 groups of 8, no SiLU', groups: 2, shape: [3, 4, 7, 16], silu: false, scale: 2 },
    // γ of up to ±60 puts z far into both tails of σ (e^−z clamped), where silu(z) is 0 or z
    { name: 'SiLU far into both tails', groups: 4, shape: [2, 6, 6, 8], silu: true, scale: 120 },
  ];
  for (const k of kernelCases) {
    it(`matches the TF.js ops, values and gradients: ${k.name}`, async () => {
      const c = k.shape[3]!;
      const f: Fn = (x, g, b) =>
        groupNorm(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, k.groups, { silu: k.silu });
      const shapes = [k.shape, [c], [c]];
      const scaled: Fn = (x, g, b) => f(x, tf.mul(g, k.scale / 2), b);
      await selectBackend({ prefer: 'wasm', fallback: false });
      expect(wasmGroupNormForwardAvailable(c)).toBe(true);
      const kernel = await valueAndGrads(scaled, shapes);
      setWasmGroupNormForward(false);
      expect(wasmGroupNormForwardAvailable(c)).toBe(false);
      const ops = await valueAndGrads(scaled, shapes);
      setWasmGroupNormForward(true);
      for (let i = 0; i < ops.length; i++) expect(maxRelErr(kernel[i]!, ops[i]!), `output ${i}`).toBeLessThan(1e-5);
    });
  }
});
