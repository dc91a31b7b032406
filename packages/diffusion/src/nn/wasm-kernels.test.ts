import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { installWasmKernelFixes } from './wasm-kernels.ts';

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
];

async function onBackend<T>(name: 'cpu' | 'wasm', f: () => Promise<T>): Promise<T> {
  await selectBackend({ prefer: name, fallback: false });
  if (name === 'wasm') installWasmKernelFixes();
  return f();
}

describe('wasm kernel fixes', () => {
  it('replace Slice and SplitV on wasm', async () => {
    await onBackend('wasm', async () => undefined);
    expect(tf.getKernel('Slice', 'wasm')?.kernelFunc.name).not.toBe('slice');
  });

  for (const c of sliceCases) {
    it(`slice [${c.shape}] at [${c.begin}] size [${c.size}] matches cpu`, async () => {
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
