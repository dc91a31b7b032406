import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { generatedPath, generatedSource, watFiles } from '../../scripts/build-wasm.ts';
import { selectBackend } from '../backend.ts';
import {
  setWasmWinograd,
  setWasmWinograd4,
  wasmConv,
  wasmConvFits,
  wasmConvKernelsAvailable,
  wasmFilterGrad,
  wasmFlipSwap,
  wasmWinogradConv,
  wasmWinograd4Fits,
  wasmWinogradFits,
} from './wasm-conv.ts';
import { maxRelErr, randomArray } from './test-arrays.ts';

interface Case {
  b: number;
  h: number;
  w: number;
  k: number;
  stride: number;
  cin: number;
  cout: number;
}

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
  { b: 2, h: 9, w: 32, k: 3, stride: 1, cin: 32, cout: 8 }, // rows in chunks of 4 (4, 4, 1): chunk edges inside the taps
  { b: 1, h: 3, w: 64, k: 3, stride: 1, cin: 64, cout: 8 }, // rows too long for more than one per chunk
  { b: 1, h: 9, w: 32, k: 3, stride: 2, cin: 32, cout: 8 }, // strided, in chunks
  { b: 2, h: 16, w: 16, k: 3, stride: 1, cin: 8, cout: 16 }, // by Winograd, bands of two tile rows
  { b: 1, h: 32, w: 32, k: 3, stride: 1, cin: 8, cout: 8 }, // by Winograd, one tile row (16 tiles) per band
];

/**
 * Relative error allowed to the Winograd kernels against the cpu backend's direct sums, per tile size: F(2×2, 3×3)
 * measured up to 1.1e-6 on these shapes, F(4×4, 3×3), whose transforms multiply by up to 8 and 1/24, up to 8.8e-6
 * (128 input channels); both grow with the number of channels summed.
 */
const WINOGRAD_TOLERANCE = { 2: 1e-5, 4: 3e-5 } as const;

/** Runs fn with the Winograd kernels limited to F(2×2, 3×3) (tile 2) or free to use F(4×4, 3×3) (tile 4). */
async function withTile<T>(tile: 2 | 4, fn: () => Promise<T>): Promise<T> {
  setWasmWinograd4(tile === 4);
  try {
    return await fn();
  } finally {
    setWasmWinograd4(true);
  }
}

const winogradGradCases: (Case & { tile: 2 | 4 })[] = [
  { b: 2, h: 8, w: 8, k: 3, stride: 1, cin: 4, cout: 8, tile: 2 }, // F(2×2): 4 tiles a band, all on an edge
  { b: 2, h: 8, w: 8, k: 3, stride: 1, cin: 4, cout: 8, tile: 4 }, // F(4×4): 2×2 tiles, one band
  { b: 3, h: 4, w: 16, k: 3, stride: 1, cin: 12, cout: 24, tile: 4 }, // one tile row: every tile padded above and below
  { b: 2, h: 8, w: 24, k: 3, stride: 1, cin: 8, cout: 16, tile: 4 }, // 6 tiles a row, bands of 2 rows
  { b: 1, h: 16, w: 16, k: 3, stride: 1, cin: 64, cout: 16, tile: 4 }, // the small UNet's middle level
  { b: 1, h: 8, w: 8, k: 3, stride: 1, cin: 128, cout: 16, tile: 4 }, // its widest sum (the cpu reference is slow)
  { b: 11, h: 8, w: 8, k: 3, stride: 1, cin: 8, cout: 16, tile: 4 }, // bands of 8 samples' 4 tiles, then of 3 samples
  { b: 3, h: 16, w: 16, k: 3, stride: 1, cin: 8, cout: 8, tile: 4 }, // bands of 2 samples' 16 tiles, then of 1
];

describe('wasm conv kernels', () => {
  afterAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  it('is built from the current .wat sources (run npm run build:wasm -w @dapple/models after editing it)', async () => {
    for (const wat of watFiles()) expect(readFileSync(generatedPath(wat), 'utf8')).toBe(await generatedSource(wat));
  });

  it('runs on the wasm backend and not elsewhere', async () => {
    await selectBackend({ prefer: 'cpu', fallback: false });
    expect(wasmConvKernelsAvailable()).toBe(false);
    await selectBackend({ prefer: 'wasm', fallback: false });
    expect(wasmConvKernelsAvailable()).toBe(true);
  });

  for (const c of cases) {
    it(`matches Conv2DBackpropFilter: B${c.b} ${c.h}×${c.w}, k${c.k}, stride ${c.stride}, ${c.cin}→${c.cout}`, async () => {
      const ho = Math.ceil(c.h / c.stride);
      const wo = Math.ceil(c.w / c.stride);
      const x = randomArray(c.b * c.h * c.w * c.cin, 11);
      const dy = randomArray(c.b * ho * wo * c.cout, 12);
      const [refDw, refDb] = await reference(c, x, dy);
      await selectBackend({ prefer: 'wasm', fallback: false });
      expect(wasmConvKernelsAvailable()).toBe(true);
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

  for (const c of winogradGradCases) {
    it(`Winograd F(${c.tile}×${c.tile}, 3×3) filter gradient matches Conv2DBackpropFilter: B${c.b} ${c.h}×${c.w}, ${c.cin}→${c.cout}`, async () => {
      const x = randomArray(c.b * c.h * c.w * c.cin, 51);
      const dy = randomArray(c.b * c.h * c.w * c.cout, 52);
      const [refDw, refDb] = await reference(c, x, dy);
      await selectBackend({ prefer: 'wasm', fallback: false });
      expect(wasmConvKernelsAvailable()).toBe(true);
      await withTile(c.tile, async () => {
        expect(wasmWinograd4Fits([c.b, c.h, c.w, c.cin], c.cout)).toBe(c.tile === 4);
        const xt = tf.tensor4d(x, [c.b, c.h, c.w, c.cin]);
        const dyt = tf.tensor4d(dy, [c.b, c.h, c.w, c.cout]);
        const before = tf.memory().numTensors;
        const { dw, db } = wasmFilterGrad(xt, dyt, 3, 1);
        expect(tf.memory().numTensors).toBe(before + 2);
        expect(maxRelErr((await dw.data()) as Float32Array, refDw)).toBeLessThan(WINOGRAD_TOLERANCE[c.tile]);
        expect(maxRelErr((await db.data()) as Float32Array, refDb)).toBeLessThan(1e-5);
        expect(Array.from(await xt.data())).toEqual(Array.from(x));
        tf.dispose([xt, dyt, dw, db]);
      });
    });
  }

  interface ConvCase {
    b: number;
    h: number;
    w: number;
    k: number;
    pad: [[number, number], [number, number]];
    c: number;
    n: number;
    bias: boolean;
  }
  const convCases: ConvCase[] = [
    {
      b: 2,
      h: 8,
      w: 8,
      k: 3,
      pad: [
        [1, 1],
        [1, 1],
      ],
      c: 8,
      n: 8,
      bias: true,
    }, // SAME 3×3
    {
      b: 3,
      h: 5,
      w: 12,
      k: 3,
      pad: [
        [1, 1],
        [1, 1],
      ],
      c: 5,
      n: 16,
      bias: false,
    }, // odd height, any input channel count
    {
      b: 1,
      h: 4,
      w: 4,
      k: 5,
      pad: [
        [2, 2],
        [2, 2],
      ],
      c: 3,
      n: 8,
      bias: true,
    }, // taps past the whole image
    {
      b: 2,
      h: 6,
      w: 4,
      k: 2,
      pad: [
        [1, 0],
        [1, 0],
      ],
      c: 6,
      n: 24,
      bias: false,
    }, // the stride-2 input gradient's 2×2 phase conv
    {
      b: 2,
      h: 4,
      w: 8,
      k: 1,
      pad: [
        [0, 0],
        [0, 0],
      ],
      c: 7,
      n: 8,
      bias: true,
    },
  ];
  for (const c of convCases) {
    it(`conv matches the cpu backend: B${c.b} ${c.h}×${c.w}, k${c.k}, pad ${JSON.stringify(c.pad)}, ${c.c}→${c.n}${c.bias ? ' + bias' : ''}`, async () => {
      const x = randomArray(c.b * c.h * c.w * c.c, 21);
      const f = randomArray(c.k * c.k * c.c * c.n, 22);
      const bias = randomArray(c.n, 23);
      const run = async (ours: boolean) => {
        const xt = tf.tensor4d(x, [c.b, c.h, c.w, c.c]);
        const ft = tf.tensor4d(f, [c.k, c.k, c.c, c.n]);
        const bt = tf.tensor1d(bias);
        const y = ours
          ? wasmConv(xt, ft, c.pad, c.bias ? bt : undefined)
          : tf.add(tf.conv2d(xt, ft, 1, [[0, 0], c.pad[0], c.pad[1], [0, 0]]), c.bias ? bt : 0);
        const out = { shape: y.shape, data: (await y.data()) as Float32Array };
        tf.dispose([xt, ft, bt, y]);
        return out;
      };
      await selectBackend({ prefer: 'cpu', fallback: false });
      const ref = await run(false);
      await selectBackend({ prefer: 'wasm', fallback: false });
      expect(wasmConvKernelsAvailable()).toBe(true);
      expect(wasmConvFits(ref.shape)).toBe(true);
      const before = tf.memory().numTensors;
      const mine = await run(true);
      expect(tf.memory().numTensors).toBe(before);
      expect(mine.shape).toEqual(ref.shape);
      expect(maxRelErr(mine.data, ref.data)).toBeLessThan(1e-5);
    });
  }

  it('conv takes only output widths in fours and output channels in eights', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    expect(wasmConvFits([2, 5, 8, 16])).toBe(true);
    expect(wasmConvFits([2, 8, 6, 16])).toBe(false);
    expect(wasmConvFits([2, 8, 8, 12])).toBe(false);
    expect(wasmConvFits([2, 8, 0, 8])).toBe(false);
  });

  const winogradCases: { b: number; h: number; w: number; c: number; n: number; bias: boolean; tile: 2 | 4 }[] = [
    { b: 2, h: 8, w: 8, c: 4, n: 8, bias: true, tile: 2 }, // one block of 4 tiles per band, every tile on an edge
    { b: 3, h: 6, w: 16, c: 12, n: 24, bias: false, tile: 2 }, // several channel quads and output blocks
    { b: 1, h: 32, w: 32, c: 32, n: 32, bias: true, tile: 2 }, // the small UNet's first level
    { b: 2, h: 2, w: 24, c: 8, n: 16, bias: true, tile: 2 }, // one band: both rows of every tile padded
    { b: 2, h: 8, w: 8, c: 4, n: 8, bias: true, tile: 4 }, // 2×2 tiles of 4×4, every tile on two edges
    { b: 3, h: 4, w: 16, c: 12, n: 24, bias: false, tile: 4 }, // one tile row, padded above and below
    { b: 2, h: 8, w: 24, c: 8, n: 16, bias: true, tile: 4 }, // 6 tiles a row, interior tiles
    { b: 1, h: 32, w: 32, c: 32, n: 32, bias: true, tile: 4 }, // the small UNet's first level
    { b: 2, h: 16, w: 16, c: 64, n: 64, bias: false, tile: 4 }, // its middle level
    { b: 2, h: 8, w: 8, c: 128, n: 64, bias: true, tile: 4 }, // its widest sum
  ];
  for (const c of winogradCases) {
    it(`Winograd F(${c.tile}×${c.tile}, 3×3) conv matches the cpu backend's 3×3 SAME conv: B${c.b} ${c.h}×${c.w}, ${c.c}→${c.n}${c.bias ? ' + bias' : ''}`, async () => {
      const x = randomArray(c.b * c.h * c.w * c.c, 41);
      const f = randomArray(9 * c.c * c.n, 42);
      const bias = randomArray(c.n, 43);
      const run = async (ours: boolean) => {
        const xt = tf.tensor4d(x, [c.b, c.h, c.w, c.c]);
        const ft = tf.tensor4d(f, [3, 3, c.c, c.n]);
        const bt = tf.tensor1d(bias);
        const y = ours
          ? wasmWinogradConv(xt, ft, c.bias ? bt : undefined)
          : tf.add(tf.conv2d(xt, ft, 1, 'same'), c.bias ? bt : 0);
        const out = (await y.data()) as Float32Array;
        tf.dispose([xt, ft, bt, y]);
        return out;
      };
      await selectBackend({ prefer: 'cpu', fallback: false });
      const ref = await run(false);
      await selectBackend({ prefer: 'wasm', fallback: false });
      expect(wasmWinogradFits([c.b, c.h, c.w, c.c], c.n)).toBe(true);
      await withTile(c.tile, async () => {
        expect(wasmWinograd4Fits([c.b, c.h, c.w, c.c], c.n)).toBe(c.tile === 4);
        const before = tf.memory().numTensors;
        const mine = await run(true);
        expect(tf.memory().numTensors).toBe(before);
        expect(mine.length).toBe(ref.length);
        // Not the direct conv's sums (the transforms scale and add), but as close as float32 rounding goes.
        expect(maxRelErr(mine, ref)).toBeLessThan(WINOGRAD_TOLERANCE[c.tile]);
      });
    });
  }

  it('Winograd takes only even sizes with widths in eights, channels in fours and eights, and can be turned off', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    expect(wasmWinogradFits([2, 8, 8, 4], 8)).toBe(true);
    expect(wasmWinogradFits([2, 7, 8, 4], 8)).toBe(false);
    expect(wasmWinogradFits([2, 8, 12, 4], 8)).toBe(false);
    expect(wasmWinogradFits([2, 8, 8, 3], 8)).toBe(false);
    expect(wasmWinogradFits([2, 8, 8, 4], 12)).toBe(false);
    setWasmWinograd(false);
    try {
      expect(wasmWinogradFits([2, 8, 8, 4], 8)).toBe(false);
      expect(wasmWinograd4Fits([2, 8, 8, 4], 8)).toBe(false);
    } finally {
      setWasmWinograd(true);
    }
  });

  it('Winograd F(4×4, 3×3) takes sizes in fours with a band of tiles in fours, and can be turned off', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    expect(wasmWinograd4Fits([2, 32, 32, 32], 32)).toBe(true);
    expect(wasmWinograd4Fits([2, 8, 8, 64], 64)).toBe(true);
    expect(wasmWinograd4Fits([2, 4, 16, 4], 8)).toBe(true);
    expect(wasmWinograd4Fits([2, 4, 4, 64], 64)).toBe(false); // one tile: the products run on blocks of 4
    expect(wasmWinograd4Fits([2, 6, 16, 4], 8)).toBe(false); // F(2×2) takes it
    expect(wasmWinogradFits([2, 6, 16, 4], 8)).toBe(true);
    expect(wasmWinograd4Fits([2, 12, 8, 4], 8)).toBe(false); // 3 rows of 2 tiles
    setWasmWinograd4(false);
    try {
      expect(wasmWinograd4Fits([2, 32, 32, 32], 32)).toBe(false);
      expect(wasmWinogradFits([2, 32, 32, 32], 32)).toBe(true);
    } finally {
      setWasmWinograd4(true);
    }
  });

  it('flipSwap reverses the taps and transposes each tap', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    expect(wasmConvKernelsAvailable()).toBe(true);
    const [k, cin, cout] = [3, 5, 6];
    const w = tf.tensor4d(randomArray(k * k * cin * cout, 31), [k, k, cin, cout]);
    const f = wasmFlipSwap(w);
    expect(f.shape).toEqual([k, k, cout, cin]);
    const [wv, fv] = [await w.array(), await f.array()];
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++)
        for (let ci = 0; ci < cin; ci++)
          for (let co = 0; co < cout; co++) expect(fv[i]![j]![co]![ci]).toBe(wv[k - 1 - i]![k - 1 - j]![ci]![co]);
    tf.dispose([w, f]);
  });
});
