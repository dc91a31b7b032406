import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { wasmBatchMatMul, wasmBatchMatMulFits } from './wasm-matmul.ts';
import { randomArray } from './test-arrays.ts';

const cases = [
  { name: 'a·b', a: [3, 8, 12], b: [3, 12, 16], ta: false, tb: false },
  { name: 'aᵀ·b', a: [2, 12, 8], b: [2, 12, 24], ta: true, tb: false },
  { name: 'a·bᵀ', a: [2, 6, 20], b: [2, 12, 20], ta: false, tb: true },
  { name: 'a·b, one row block and K = 1', a: [1, 4, 1], b: [1, 1, 8], ta: false, tb: false },
  { name: "2-D a·bᵀ (a dense layer's input gradient)", a: [6, 16], b: [8, 16], ta: false, tb: true },
  { name: "2-D aᵀ·b (a dense layer's weight gradient)", a: [10, 8], b: [10, 16], ta: true, tb: false },
];

describe('wasm batched matmul kernels', () => {
  afterAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  for (const c of cases) {
    it(`${c.name} matches tf.matMul on cpu`, async () => {
      const a = randomArray(
        c.a.reduce((x, y) => x * y),
        1,
      );
      const b = randomArray(
        c.b.reduce((x, y) => x * y),
        2,
      );
      const product = async () => {
        // Rank 2 or 3: typed as 3-D for the call, as both functions treat the two alike.
        const at = tf.tensor(a, c.a) as unknown as tf.Tensor3D;
        const bt = tf.tensor(b, c.b) as unknown as tf.Tensor3D;
        const y = tf.getBackend() === 'wasm' ? wasmBatchMatMul(at, bt, c.ta, c.tb) : tf.matMul(at, bt, c.ta, c.tb);
        const out = { shape: y.shape, data: (await y.data()) as Float32Array };
        tf.dispose([at, bt, y]);
        return out;
      };
      await selectBackend({ prefer: 'cpu', fallback: false });
      expect(wasmBatchMatMulFits(c.a, c.b, c.ta, c.tb)).toBe(false); // never off wasm
      const ref = await product();
      await selectBackend({ prefer: 'wasm', fallback: false });
      expect(wasmBatchMatMulFits(c.a, c.b, c.ta, c.tb)).toBe(true);
      const mine = await product();
      expect(mine.shape).toEqual(ref.shape);
      let err = 0;
      for (let i = 0; i < ref.data.length; i++) err = Math.max(err, Math.abs(mine.data[i]! - ref.data[i]!));
      expect(err).toBeLessThan(1e-5);
    });
  }

  for (const shapes of [
    { a: [12, 20], b: [20, 16] },
    { a: [2, 4, 3], b: [2, 3, 8] },
  ]) {
    it(`a·b + bias matches tf.matMul + bias on cpu: ${JSON.stringify(shapes)}`, async () => {
      const [a, b] = [shapes.a, shapes.b].map((s, i) =>
        randomArray(
          s.reduce((x, y) => x * y),
          3 + i,
        ),
      ) as [Float32Array, Float32Array];
      const n = shapes.b[shapes.b.length - 1]!;
      const bias = randomArray(n, 5);
      const product = async (ours: boolean) => {
        const at = tf.tensor(a, shapes.a) as unknown as tf.Tensor3D;
        const bt = tf.tensor(b, shapes.b) as unknown as tf.Tensor3D;
        const biast = tf.tensor1d(bias);
        const y = ours ? wasmBatchMatMul(at, bt, false, false, biast) : tf.add(tf.matMul(at, bt), biast);
        const out = { shape: y.shape, data: (await y.data()) as Float32Array };
        tf.dispose([at, bt, biast, y]);
        return out;
      };
      await selectBackend({ prefer: 'cpu', fallback: false });
      const ref = await product(false);
      await selectBackend({ prefer: 'wasm', fallback: false });
      expect(wasmBatchMatMulFits(shapes.a, shapes.b, false, false)).toBe(true);
      const mine = await product(true);
      expect(mine.shape).toEqual(ref.shape);
      let err = 0;
      for (let i = 0; i < ref.data.length; i++) err = Math.max(err, Math.abs(mine.data[i]! - ref.data[i]!));
      expect(err).toBeLessThan(1e-5);
    });
  }

  it('takes a bias only without transposes', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    const a = tf.zeros([8, 8]) as tf.Tensor2D;
    const bias = tf.zeros([8]) as tf.Tensor1D;
    expect(() => wasmBatchMatMul(a, a, true, false, bias)).toThrow(/bias only without transposes/);
    tf.dispose([a, bias]);
  });

  it('takes only block-sized shapes and one transposed operand at most', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    expect(wasmBatchMatMulFits([2, 6, 8], [2, 8, 8], false, false)).toBe(false); // M not in fours
    expect(wasmBatchMatMulFits([2, 8, 8], [2, 8, 12], false, false)).toBe(false); // N not in eights
    expect(wasmBatchMatMulFits([2, 6, 6], [2, 8, 6], false, true)).toBe(false); // K not in fours
    expect(wasmBatchMatMulFits([2, 8, 8], [2, 8, 8], true, true)).toBe(false);
    expect(wasmBatchMatMulFits([2, 8, 8], [3, 8, 8], false, false)).toBe(false); // batch mismatch
  });
});
