import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { concatFlat, splitFlat } from './flat-copy.ts';

const shapes = [[2, 3], [4], [1, 2, 2, 1], [], [3, 1]];

async function roundTrip(): Promise<{
  flat: number[];
  parts: { shape: number[]; values: number[] }[];
  leaked: number;
}> {
  const before = tf.memory().numTensors;
  let next = 0;
  const inputs = shapes.map((s) =>
    tf.tensor(
      Array.from({ length: tf.util.sizeFromShape(s) }, () => (next += 1.5)),
      s,
    ),
  );
  const flat = concatFlat(inputs);
  const parts = splitFlat(flat, shapes);
  const out = {
    flat: Array.from(await flat.data()),
    parts: await Promise.all(parts.map(async (p) => ({ shape: p.shape, values: Array.from(await p.data()) }))),
    leaked: 0,
  };
  tf.dispose([...inputs, flat, ...parts]);
  out.leaked = tf.memory().numTensors - before;
  return out;
}

describe('concatFlat / splitFlat', () => {
  afterAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  it('pack tensors of any shapes into one 1-D tensor and back, the same on wasm (our kernels) and cpu (ops)', async () => {
    await selectBackend({ prefer: 'cpu', fallback: false });
    const onCpu = await roundTrip();
    await selectBackend({ prefer: 'wasm', fallback: false });
    const onWasm = await roundTrip();
    expect(onWasm).toEqual(onCpu);
    expect(onCpu.flat).toEqual(Array.from({ length: 18 }, (_, i) => 1.5 * (i + 1)));
    expect(onCpu.parts.map((p) => p.shape)).toEqual(shapes);
    expect(onCpu.parts[3]!.values).toEqual([1.5 * 15]); // the scalar
    expect(onCpu.leaked).toBe(0);
  });

  it('refuses shapes that do not add up to the flat tensor', () => {
    const flat = tf.zeros([5]) as tf.Tensor1D;
    expect(() => splitFlat(flat, [[2, 2]])).toThrow(/hold 4 values, the tensor 5/);
    flat.dispose();
  });
});
