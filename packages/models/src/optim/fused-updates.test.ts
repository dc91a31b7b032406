import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { Ema } from './ema.ts';
import { fusedUpdatesAvailable } from './fused-updates.ts';
import { createOptimizer, type OptimizerConfig } from './optimizers.ts';
import { randomArray } from '../nn/test-arrays.ts';

// 7 + 12 + 3 = 22 values: not a multiple of 4, so the kernels' scalar tail runs too.
const shapes: Record<string, number[]> = { a: [7], b: [3, 4], c: [3] };

/** Three steps of an optimizer (with clipping-style gradient scaling on the last two) and EMA updates. */
async function run(config: OptimizerConfig): Promise<{ params: number[]; ema: number[]; fused: boolean }> {
  const variables = new Map(
    Object.entries(shapes).map(([name, s], i) => [
      name,
      tf.variable(
        tf.tensor(
          randomArray(
            s.reduce((x, y) => x * y, 1),
            i + 1,
          ),
          s,
        ),
      ),
    ]),
  );
  const optimizer = createOptimizer(variables, config);
  const ema = new Ema(variables, { maxDecay: 0.9 });
  for (let step = 0; step < 3; step++) {
    const flats = optimizer.layout.buckets.map((b, i) => tf.tensor1d(randomArray(b.size, 100 + 10 * step + i)));
    const scale = step === 0 ? undefined : tf.scalar(0.5 + step / 10);
    optimizer.applyFlat(flats, 0.01, scale);
    ema.update();
    tf.dispose([...flats, ...(scale ? [scale] : [])]);
  }
  const params = (await Promise.all([...variables.values()].map((v) => v.data()))).flatMap((d) => Array.from(d));
  const shadow = (await Promise.all([...ema.shadow.values()].map((t) => t.data()))).flatMap((d) => Array.from(d));
  const out = { params, ema: shadow, fused: fusedUpdatesAvailable() };
  optimizer.dispose();
  ema.dispose();
  tf.dispose([...variables.values()]);
  return out;
}

describe('fused Adam and EMA kernels', () => {
  afterAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  for (const config of [{ kind: 'adam' }, { kind: 'adamw', weightDecay: 0.05, beta1: 0.8 }] as OptimizerConfig[]) {
    it(`${config.kind}: the wasm kernels give the cpu backend's op-by-op results`, async () => {
      await selectBackend({ prefer: 'cpu', fallback: false });
      const ops = await run(config);
      await selectBackend({ prefer: 'wasm', fallback: false });
      const fused = await run(config);
      expect(ops.fused).toBe(false);
      expect(fused.fused).toBe(true);
      expect(fused.params).toEqual(ops.params);
      expect(fused.ema).toEqual(ops.ema);
    });
  }
});
