import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { customOp } from './custom-op.ts';
import { installWasmKernelFixes, setWasmRowCopies } from './wasm-kernels.ts';

function iota(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = i * 0.5 - 7;
  return out;
}

const sliceCases: { shape: number[]; begin: number[]; size: number[] }[] = [
  { shape: [10], begin: [3], size: [4] },
  { shape: [4, 6], begin: [1, 2], size: [2, 3] },
  { shape: [4, 6], begin: [1, 0], size: [3, 6] },
  { shape: [2, 3, 4, 5], begin: [0, 1, 1, 2], size: [2, 2, 3, 2] },
  { shape: [2, 3, 4, 5], begin: [1, 0, 0, 0], size: [1, 3, 4, 5] },
  { shape: [2, 3, 4, 5], begin: [0, 0, 0, 3], size: [2, 3, 4, 2] },
  { shape: [2, 2, 2, 3, 4], begin: [0, 1, 0, 1, 1], size: [2, 1, 2, 2, 3] },
  { shape: [3, 4, 300], begin: [1, 1, 10], size: [2, 3, 200] }, // long rows (set/subarray path)
];

async function onBackend<T>(name: 'cpu' | 'wasm', f: () => Promise<T>): Promise<T> {
  await selectBackend({ prefer: name, fallback: false });
  if (name === 'wasm') installWasmKernelFixes();
  return f();
}

describe('wasm kernel fixes', () => {
  it('concat along every axis matches cpu (long and short rows, int32, an empty part)', async () => {
    const run = async () => {
      const a = tf.tensor(iota(2 * 3 * 200), [2, 3, 200]);
      const b = tf.tensor(iota(2 * 3 * 5), [2, 3, 5]).add(100);
      const c = tf.tensor(iota(2 * 1 * 200), [2, 1, 200]).add(200);
      const d = tf.tensor(iota(1 * 3 * 200), [1, 3, 200]).add(300);
      const e = tf.zeros([2, 3, 0]);
      const ai = tf.cast(a, 'int32');
      const parts = [
        tf.concat([a, b, e], 2),
        tf.concat([a, c], 1),
        tf.concat([a, d], 0),
        tf.concat([ai, tf.cast(b, 'int32')], 2),
      ];
      const data = await Promise.all(parts.map(async (p) => ({ shape: p.shape, values: Array.from(await p.data()) })));
      tf.dispose([a, b, c, d, e, ai, ...parts]);
      return data;
    };
    const reference = await onBackend('cpu', run);
    expect(await onBackend('wasm', run)).toEqual(reference);
  });

  // The row copies run in our wasm kernel (wasm/copy-kernels.wat); switched off, in the JS loops. Both against cpu,
  // on rows whose byte lengths reach each part of the kernel: 64-byte blocks, 16, 4 and single bytes (bool).
  for (const wasmRows of [true, false]) {
    it(`skip-connection concat and split match cpu, float32, int32 and bool (row copies in ${wasmRows ? 'wasm' : 'JS'})`, async () => {
      const run = async () => {
        const a = tf.tensor(iota(2 * 3 * 3 * 21), [2, 3, 3, 21]);
        const b = tf.tensor(iota(2 * 3 * 3 * 7), [2, 3, 3, 7]).add(50);
        const ab = tf.concat([a, b], 3);
        const ai = tf.cast(ab, 'int32');
        const bits = tf.greater(ab, 0);
        const parts = [
          ab,
          ai,
          tf.concat([bits, tf.less(b, 60)], 3),
          ...tf.split(ab, [21, 7], 3),
          ...tf.split(ai, [5, 23], 3),
          ...tf.split(bits, [13, 15], 3),
          tf.slice(bits, [0, 1, 0, 3], [2, 2, 3, 17]),
        ];
        const data = await Promise.all(
          parts.map(async (p) => ({ shape: p.shape, dtype: p.dtype, values: Array.from(await p.data()) })),
        );
        tf.dispose([a, b, ...parts]);
        return data;
      };
      const reference = await onBackend('cpu', run);
      setWasmRowCopies(wasmRows);
      try {
        expect(await onBackend('wasm', run)).toEqual(reference);
      } finally {
        setWasmRowCopies(true);
      }
    });
  }

  it('replace Slice and SplitV on wasm', async () => {
    await onBackend('wasm', async () => undefined);
    expect(tf.getKernel('Slice', 'wasm')?.kernelFunc.name).not.toBe('slice');
  });

  for (const c of sliceCases) {
    it(`slice [${c.shape.join(',')}] at [${c.begin.join(',')}] size [${c.size.join(',')}] matches cpu`, async () => {
      const run = async () => {
        const x = tf.tensor(iota(c.shape.reduce((a, b) => a * b, 1)), c.shape);
        const y = tf.slice(x, c.begin, c.size);
        const data = Array.from(await y.data());
        tf.dispose([x, y]);
        return data;
      };
      const reference = await onBackend('cpu', run);
      expect(await onBackend('wasm', run)).toEqual(reference);
    });
  }

  it('identity (clone) shares the buffer: each copy outlives the other, the memory goes with the last', async () => {
    await onBackend('wasm', async () => undefined);
    const before = tf.memory().numDataBuffers;
    const x = tf.tensor(iota(24), [2, 3, 4]);
    const y = tf.clone(x);
    const z = tf.clone(y);
    expect(tf.memory().numDataBuffers - before).toBe(1); // one buffer for all three
    x.dispose();
    expect(Array.from(await y.data())).toEqual(Array.from(iota(24)));
    y.dispose();
    expect(z.shape).toEqual([2, 3, 4]);
    expect(Array.from(await z.data())).toEqual(Array.from(iota(24)));
    z.dispose();
    expect(tf.memory().numDataBuffers).toBe(before);
    // The engine's own clone for a custom gradient's saved tensors goes through the same kernel.
    const a = tf.variable(tf.tensor1d([1, 2, 3]));
    const square = customOp<tf.Tensor>(([u], save) => {
      save([u!]);
      return { value: tf.square(u!), gradFunc: (dy, saved) => [tf.mul(dy, tf.mul(saved[0]!, 2))] };
    });
    const g = tf.grad((v: tf.Tensor) => square(v))(a);
    expect(Array.from(await g.data())).toEqual([2, 4, 6]);
    tf.dispose([a, g]);
  });

  it('split along inner and outer axes matches cpu, int32 too', async () => {
    const run = async () => {
      const x = tf.tensor(iota(3 * 4 * 5), [3, 4, 5]);
      const xi = tf.cast(x, 'int32');
      const parts = [...tf.split(x, [2, 3], 2), ...tf.split(x, [1, 2], 0), ...tf.split(xi, [1, 3], 1)];
      const data = await Promise.all(parts.map(async (p) => ({ shape: p.shape, values: Array.from(await p.data()) })));
      tf.dispose([x, xi, ...parts]);
      return data;
    };
    const reference = await onBackend('cpu', run);
    expect(await onBackend('wasm', run)).toEqual(reference);
  });
});
