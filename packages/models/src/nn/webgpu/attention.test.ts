import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { dense } from '../ops.ts';
import { maxRelErr, randomArray } from '../test-arrays.ts';
import { webgpuAttention } from './attention.ts';
import { cpuAndWebGpu, PATHS, probeWebGpu, WEBGPU_SKIP_HINT } from './test-support.ts';

const gpu = await probeWebGpu();

/** softmax(s·q·kᵀ)·v: our kernel on webgpu, TF.js ops (the reference) on cpu. */
function attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, scale: number): tf.Tensor {
  if (tf.getBackend() === 'webgpu') return webgpuAttention(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, scale);
  return tf.matMul(tf.softmax(tf.matMul(tf.mul(q, scale), k, false, true)), v);
}

describe.skipIf(!gpu.ok)(`webgpu attention and dense kernels${gpu.ok ? '' : ` (skipped: ${WEBGPU_SKIP_HINT})`}`, () => {
  for (const [b, n, c] of [
    [2, 16, 8], // one block of queries and keys
    [3, 37, 20], // partial blocks, channels not a multiple of the 16 lanes
    [1, 64, 48], // several blocks each way (the small preset's 8×8 attention)
  ] as [number, number, number][]) {
    it(`attention [${b}, ${n}, ${c}]: values and gradients of q, k, v match cpu`, async () => {
      // Scores spread over several units so the softmax is far from uniform.
      const inputs = [1, 2, 3].map((seed) => ({ values: randomArray(b * n * c, seed, 3), shape: [b, n, c] }));
      const scale = 1 / Math.sqrt(c);
      const f = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => attention(q, k, v, scale);
      const { cpu, gpu: out, errors } = await cpuAndWebGpu(f, inputs, PATHS[0]!);
      expect(errors).toEqual([]);
      expect(out.kernels).toEqual([
        'DappleAttention',
        'DappleAttention',
        'DappleAttentionGradKV',
        'DappleAttentionGradQ',
      ]);
      cpu.values.forEach((ref, i) => expect(maxRelErr(out.values[i]!, ref), `output ${i}`).toBeLessThan(2e-5));
    }, 120_000);
  }

  it('dense with bias and residual (a 1×1 conv of ours): values and gradients match cpu', async () => {
    const [n, cin, cout] = [37, 24, 40];
    const inputs = [
      { values: randomArray(n * cin, 1, 2), shape: [n, cin] },
      { values: randomArray(cin * cout, 2, 1), shape: [cin, cout] },
      { values: randomArray(cout, 3, 1), shape: [cout] },
      { values: randomArray(n * cout, 4, 1), shape: [n, cout] },
    ];
    const f = (x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor, r: tf.Tensor) =>
      dense(x as tf.Tensor2D, w as tf.Tensor2D, bias as tf.Tensor1D, r as tf.Tensor2D);
    const { cpu, gpu: out, errors } = await cpuAndWebGpu(f, inputs, PATHS[0]!);
    expect(errors).toEqual([]);
    expect(out.kernels).toContain('DappleConv2DFilterGrad');
    cpu.values.forEach((ref, i) => expect(maxRelErr(out.values[i]!, ref), `output ${i}`).toBeLessThan(1e-5));
  }, 120_000);
});
