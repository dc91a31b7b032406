import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { customOp } from './custom-op.ts';

/** y = x², saving x: gradient 2·x·dy. */
const square = (x: tf.Tensor) =>
  customOp<tf.Tensor>(([xi], save) => {
    save([xi!]);
    return { value: tf.square(xi!), gradFunc: (dy, [xs]) => [tf.mul(dy, tf.mul(xs!, 2))] };
  })(x);

/** y = 2x, saving nothing: the baseline of Identity ops that tf.grad itself runs. */
const double = (x: tf.Tensor) =>
  customOp<tf.Tensor>(([xi]) => ({ value: tf.mul(xi!, 2), gradFunc: (dy) => [tf.mul(dy, 2)] }))(x);

function identityCalls<T>(f: () => T): { result: T; identities: number } {
  const kernel = tf.getKernel('Identity', tf.getBackend());
  const inner = kernel.kernelFunc;
  let identities = 0;
  (kernel as { kernelFunc: typeof inner }).kernelFunc = (args) => {
    identities++;
    return inner(args);
  };
  try {
    return { result: f(), identities };
  } finally {
    (kernel as { kernelFunc: typeof inner }).kernelFunc = inner;
  }
}

describe('customOp saving', () => {
  afterAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`${backend}: saved tensors reach the gradient, cost no clone op, and are all freed afterwards`, async () => {
      await selectBackend({ prefer: backend, fallback: false });
      const x = tf.tensor1d([1, -2, 3]);
      const before = tf.memory().numTensors;
      // x·3 is an intermediate: disposed by the forward pass's tidy, so the gradient needs the saved copy.
      const { result: g, identities } = identityCalls(() => tf.grad((v: tf.Tensor) => tf.sum(square(tf.mul(v, 3))))(x));
      expect(Array.from(await g.data())).toEqual([18, -36, 54]); // d/dv (3v)² = 18v
      const baseline = identityCalls(() => tf.grad((v: tf.Tensor) => tf.sum(double(tf.mul(v, 3))))(x));
      expect(identities).toBe(baseline.identities);
      tf.dispose([g, baseline.result]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });
  }

  it('frees what an op saved even when the gradient does not need that op', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    const [a, b] = [tf.tensor1d([1, 2]), tf.tensor1d([3, 4])];
    const before = tf.memory().numTensors;
    // b's branch is not on the path from a to the loss: its node is pruned and its gradient never runs.
    const g = tf.grad((v: tf.Tensor) => tf.add(tf.sum(square(v)), tf.sum(square(tf.mul(b, 2)))))(a);
    expect(Array.from(await g.data())).toEqual([2, 4]);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  it('saves nothing when no tape records (sampling)', async () => {
    await selectBackend({ prefer: 'wasm', fallback: false });
    const x = tf.tensor1d([1, 2]);
    const before = tf.memory().numTensors;
    const y = square(x);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(Array.from(await y.data())).toEqual([1, 4]);
    tf.dispose([x, y]);
  });
});
