import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../backend.ts';
import { Ema } from '../../optim/ema.ts';
import { flatNormAndClipScale } from '../../optim/flat.ts';
import { concatFlat, splitFlat } from '../../optim/flat-copy.ts';
import { createOptimizer, type OptimizerConfig } from '../../optim/optimizers.ts';
import { maxRelErr, randomArray } from '../test-arrays.ts';
import { logDispatches } from './runtime.ts';
import { setWebGpuKernels } from './enabled.ts';
import { probeWebGpu, WEBGPU_SKIP_HINT } from './test-support.ts';

const gpu = await probeWebGpu();

// 7 + 12 + 3 = 22 values, and a fourth variable large enough for several workgroups of the norm pass.
const shapes: Record<string, number[]> = { a: [7], b: [3, 4], c: [3], d: [5000] };

/** Three steps of an optimizer with clipping and the EMA, as the trainer runs them. */
async function steps(config: OptimizerConfig, clipNorm: number) {
  const variables = new Map(
    Object.entries(shapes).map(([name, s], i) => [
      name,
      tf.variable(tf.tensor(randomArray(tf.util.sizeFromShape(s), i + 1), s)),
    ]),
  );
  const optimizer = createOptimizer(variables, config);
  const ema = new Ema(variables, { maxDecay: 0.9 });
  const norms: number[] = [];
  const decays: (number | null)[] = [];
  logDispatches(true);
  for (let step = 0; step < 3; step++) {
    const flats = optimizer.layout.buckets.map((b, i) => tf.tensor1d(randomArray(b.size, 100 + 10 * step + i, 3)));
    const { norm, scale } = flatNormAndClipScale(flats, clipNorm);
    decays.push(optimizer.applyFlat(flats, 0.01, scale, ema));
    norms.push((await norm.data())[0]!);
    tf.dispose([...flats, norm, ...(scale ? [scale] : [])]);
  }
  const kernels = logDispatches(false);
  const params = (await Promise.all([...variables.values()].map((v) => v.data()))).flatMap((d) => Array.from(d));
  const shadow = (await Promise.all([...ema.shadow.values()].map((t) => t.data()))).flatMap((d) => Array.from(d));
  const state = (await Promise.all([...optimizer.getState().values()].map((t) => t.data()))).flatMap((d) =>
    Array.from(d),
  );
  optimizer.dispose();
  ema.dispose();
  tf.dispose([...variables.values()]);
  return { params, shadow, state, norms, decays, kernels };
}

describe.skipIf(!gpu.ok)(`webgpu optimizer kernels${gpu.ok ? '' : ` (skipped: ${WEBGPU_SKIP_HINT})`}`, () => {
  for (const config of [{ kind: 'adam' }, { kind: 'adamw', weightDecay: 0.05, beta1: 0.8 }] as OptimizerConfig[]) {
    it(`${config.kind} + clipping + EMA in one kernel per bucket gives the cpu backend's op-by-op results`, async () => {
      await selectBackend({ prefer: 'cpu', fallback: false });
      const ref = await steps(config, 20);
      await selectBackend({ prefer: 'webgpu', fallback: false });
      setWebGpuKernels(true);
      const out = await steps(config, 20);
      await selectBackend({ prefer: 'cpu', fallback: false });
      // One norm pass + one combine per step, then Adam+EMA for the one bucket; no dispatch for the packing.
      expect(out.kernels).toEqual(
        Array(3).fill(['DappleGlobalNormPartial', 'DappleGlobalNorm', 'DappleAdamEma']).flat(),
      );
      expect(ref.norms[0]).toBeGreaterThan(20); // clipping is active
      expect(maxRelErr(out.norms, ref.norms)).toBeLessThan(1e-6);
      expect(out.decays).toEqual(ref.decays);
      expect(maxRelErr(out.params, ref.params)).toBeLessThan(1e-6);
      expect(maxRelErr(out.shadow, ref.shadow)).toBeLessThan(1e-6);
      expect(maxRelErr(out.state, ref.state)).toBeLessThan(1e-6);
    }, 120_000);
  }

  it('packs and unpacks buckets with buffer copies, and sums norms over more buckets than one dispatch binds', async () => {
    await selectBackend({ prefer: 'webgpu', fallback: false });
    setWebGpuKernels(true);
    const arrays = Array.from({ length: 20 }, (_, i) => randomArray(3 + i * 7, i));
    const parts = arrays.map((a) => tf.tensor(a, [a.length]));
    logDispatches(true);
    const flat = concatFlat(parts);
    const back = splitFlat(
      flat,
      parts.map((p) => p.shape),
    );
    const { norm, scale } = flatNormAndClipScale(parts as tf.Tensor1D[], 1);
    const kernels = logDispatches(false);
    expect(kernels.filter((k) => !k.startsWith('DappleGlobalNorm'))).toEqual([]);
    const expected = Math.sqrt(arrays.reduce((s, a) => s + a.reduce((t, v) => t + v * v, 0), 0));
    expect((await norm.data())[0]).toBeCloseTo(expected, 4);
    expect((await scale!.data())[0]).toBeCloseTo(Math.min(1, 1 / (expected + 1e-6)), 6);
    for (let i = 0; i < parts.length; i++) expect(Array.from(await back[i]!.data())).toEqual(Array.from(arrays[i]!));
    tf.dispose([...parts, flat, ...back, norm, scale!]);
    await selectBackend({ prefer: 'cpu', fallback: false });
  }, 120_000);
});
