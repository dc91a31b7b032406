import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { addPerSampleChannels, dense, scaleShiftPerSampleChannels } from './ops.ts';
import { sumSpatial, sumToChannels } from './reduce.ts';
import { maxRelErr, randomArray } from './test-arrays.ts';
import { wasmSumFits } from './wasm-sum.ts';

/**
 * The channel-sum kernels (wasm/sum-kernels.wat) against tf.sum on the cpu backend, on shapes that reach every
 * path of the kernel: channels in sixteens, fours and one by one, one position, one sample; and the gradients
 * that use them (bias and per-sample-channel gradients) against TF.js autodiff on cpu.
 */
const shapes4 = [
  [2, 3, 5, 16], // sixteens only
  [3, 4, 3, 21], // 16 + 4 + 1
  [1, 5, 7, 3], // one by one only, one sample
  [4, 1, 1, 36], // one position: 16 + 16 + 4
  [2, 2, 6, 7], // 4 + 3
];
const shapesFlat = [[37, 19], [2, 9, 20], [5]];

const valuesOf = async (t: tf.Tensor) => {
  const out = { shape: t.shape, data: (await t.data()) as Float32Array };
  t.dispose();
  return out;
};

async function onBoth<T>(run: () => Promise<T>): Promise<{ cpu: T; wasm: T }> {
  await selectBackend({ prefer: 'cpu', fallback: false });
  const cpu = await run();
  await selectBackend({ prefer: 'wasm', fallback: false });
  return { cpu, wasm: await run() };
}

describe('wasm channel sums', () => {
  afterAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  for (const shape of shapes4) {
    it(`sumSpatial and sumToChannels of [${shape.join(', ')}] match tf.sum on cpu`, async () => {
      const values = randomArray(tf.util.sizeFromShape(shape), shape.length * 7 + shape[3]!, 4);
      const { cpu, wasm } = await onBoth(async () => {
        const x = tf.tensor4d(values, shape as [number, number, number, number]);
        const isWasm = tf.getBackend() === 'wasm';
        expect(wasmSumFits(x)).toBe(isWasm);
        // On cpu the reference is TF.js' own sum; on wasm the functions the gradients call.
        const spatial = await valuesOf(isWasm ? sumSpatial(x) : tf.sum(x, [1, 2]));
        const channels = await valuesOf(isWasm ? sumToChannels(x) : tf.sum(x, [0, 1, 2]));
        x.dispose();
        return { spatial, channels };
      });
      expect(wasm.spatial.shape).toEqual([shape[0], shape[3]]);
      expect(wasm.channels.shape).toEqual([shape[3]]);
      expect(maxRelErr(wasm.spatial.data, cpu.spatial.data)).toBeLessThan(1e-6);
      expect(maxRelErr(wasm.channels.data, cpu.channels.data)).toBeLessThan(1e-6);
    });
  }

  for (const shape of shapesFlat) {
    it(`sumToChannels of [${shape.join(', ')}] matches tf.sum on cpu`, async () => {
      const values = randomArray(tf.util.sizeFromShape(shape), 5 + shape.length, 4);
      const axes = shape.slice(0, -1).map((_, i) => i);
      const { cpu, wasm } = await onBoth(async () => {
        const x = tf.tensor(values, shape);
        const y = await valuesOf(tf.getBackend() === 'wasm' ? sumToChannels(x) : tf.sum(x, axes));
        x.dispose();
        return y;
      });
      expect(wasm.shape).toEqual([shape[shape.length - 1]]);
      expect(maxRelErr(wasm.data, cpu.data)).toBeLessThan(1e-6);
    });
  }

  it('is one kernel call on wasm (the ops it replaces were four to six)', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    const x = tf.ones([2, 4, 4, 8]) as tf.Tensor4D;
    const kernels = async (f: () => tf.Tensor) => (await tf.profile(() => f())).kernels.map((k) => k.name);
    expect(await kernels(() => sumSpatial(x))).toEqual(['DappleSumSpatial']);
    expect(await kernels(() => sumToChannels(x))).toEqual(['DappleSumToChannels']);
    expect(await kernels(() => sumToChannels(x.reshape([32, 8])))).toEqual(['Reshape', 'DappleSumToChannels']);
    x.dispose();
  });

  it('leaves int32 tensors to TF.js ops', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    const x = tf.ones([2, 2, 2, 4], 'int32');
    expect(wasmSumFits(x)).toBe(false);
    x.dispose();
  });

  // The gradients that call the kernels on wasm, with channel counts off the fast paths, against autodiff on cpu.
  const gradientCases: {
    name: string;
    f: (...xs: tf.Tensor[]) => tf.Tensor;
    ref: (typeof gradientCases)[0]['f'];
    shapes: number[][];
  }[] = [
    {
      name: "dense's bias gradient",
      f: (x, w, b) => dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
      ref: (x, w, b) => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b),
      shapes: [[13, 6], [6, 21], [21]],
    },
    {
      name: "addPerSampleChannels' gradient",
      f: (x, v) => addPerSampleChannels(x as tf.Tensor4D, v as tf.Tensor2D),
      ref: (x, v) => tf.add(x, v.reshape([3, 1, 1, 19])),
      shapes: [
        [3, 5, 4, 19],
        [3, 19],
      ],
    },
    {
      name: "scaleShiftPerSampleChannels' gradients",
      f: (x, s, b) => scaleShiftPerSampleChannels(x as tf.Tensor4D, s as tf.Tensor2D, b as tf.Tensor2D),
      ref: (x, s, b) => tf.add(tf.mul(x, tf.add(s, 1).reshape([2, 1, 1, 6])), b.reshape([2, 1, 1, 6])),
      shapes: [
        [2, 3, 7, 6],
        [2, 6],
        [2, 6],
      ],
    },
  ];
  for (const c of gradientCases) {
    it(`${c.name} on wasm matches autodiff on cpu`, async () => {
      const inputs = c.shapes.map((s, i) => randomArray(tf.util.sizeFromShape(s), 31 + i, 2));
      const grads = async (f: typeof c.f) => {
        const xs = c.shapes.map((s, i) => tf.tensor(inputs[i]!, s));
        const y0 = f(...xs);
        const r = tf.tensor(randomArray(y0.size, 77, 2), y0.shape);
        const g = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), r)))(xs);
        const out = await Promise.all(g.map((t) => t.data() as Promise<Float32Array>));
        tf.dispose([...xs, y0, r, ...g]);
        return out;
      };
      await selectBackend({ prefer: 'cpu', fallback: false });
      const reference = await grads(c.ref);
      await selectBackend({ prefer: 'wasm', fallback: false });
      const mine = await grads(c.f);
      for (let i = 0; i < reference.length; i++)
        expect(maxRelErr(mine[i]!, reference[i]!), `gradient ${i}`).toBeLessThan(1e-5);
    });
  }
});
