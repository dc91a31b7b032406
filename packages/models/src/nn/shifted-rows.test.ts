import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { shiftedRows } from './shifted-rows.ts';

async function windows(backend: 'cpu' | 'wasm'): Promise<{ shape: number[]; values: number[] }> {
  await selectBackend({ prefer: backend, fallback: false });
  const x = tf.range(0, 40, 1, 'float32').mul(0.5) as tf.Tensor1D;
  const y = shiftedRows(x, [0, 3, 17, 2, 30], 10).reshape([5, 10]); // overlapping, out of order, one ending at the last value
  const out = { shape: y.shape, values: Array.from(await y.data()) };
  tf.dispose([x, y]);
  return out;
}

describe('shiftedRows', () => {
  it('stacks the windows as rows, the same on wasm and cpu', async () => {
    const cpu = await windows('cpu');
    expect(cpu.shape).toEqual([5, 10]);
    expect(cpu.values.slice(10, 20)).toEqual([1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6]);
    expect(cpu.values.slice(40)).toEqual([15, 15.5, 16, 16.5, 17, 17.5, 18, 18.5, 19, 19.5]);
    expect(await windows('wasm')).toEqual(cpu);
  });

  it('appends ones on request, on both backends', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await selectBackend({ prefer: backend, fallback: false });
      const x = tf.range(0, 6, 1, 'float32') as tf.Tensor1D;
      const y = shiftedRows(x, [2, 0], 3, 4);
      const out = { shape: y.shape, values: Array.from(await y.data()) };
      tf.dispose([x, y]);
      return out;
    };
    const expected = { shape: [10], values: [2, 3, 4, 0, 1, 2, 1, 1, 1, 1] };
    expect(await run('cpu')).toEqual(expected);
    expect(await run('wasm')).toEqual(expected);
  });

  it('rejects a window outside the input', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    const x = tf.zeros([8]) as tf.Tensor1D;
    expect(() => shiftedRows(x, [0, 5], 4)).toThrow(/window \[5, 9\) is outside the input of 8 values/);
    x.dispose();
  });
});
