import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { diffusionLoss } from '../../diffusion/losses.ts';
import { makeSchedule, qSample } from '../../diffusion/schedule.ts';
import { maxRelErr, randomArray } from '../test-arrays.ts';
import { cpuAndWebGpu, PATHS, probeWebGpu, WEBGPU_SKIP_HINT } from './test-support.ts';

const gpu = await probeWebGpu();
const schedule = makeSchedule({ kind: 'cosine', T: 100 });

describe.skipIf(!gpu.ok)(`webgpu q-sample and loss kernels${gpu.ok ? '' : ` (skipped: ${WEBGPU_SKIP_HINT})`}`, () => {
  it('x_t = √ᾱ·x0 + √(1−ᾱ)·ε, then the simple ε-loss: values and gradients match cpu', async () => {
    const [b, h, w, c] = [3, 5, 4, 3];
    const t = tf.tensor1d([0, 57, 99], 'int32');
    const inputs = [
      { values: randomArray(b * h * w * c, 1, 2), shape: [b, h, w, c] }, // x0
      { values: randomArray(b * h * w * c, 2, 2), shape: [b, h, w, c] }, // ε
      { values: randomArray(b * h * w * c, 3, 2), shape: [b, h, w, c] }, // the model's output
    ];
    // Σ_b loss_b·dy_b: its gradients reach x0 and ε through q-sample and the output through the MSE.
    const f = (x0: tf.Tensor, eps: tf.Tensor, out: tf.Tensor) => {
      const xt = qSample(schedule, x0 as tf.Tensor4D, t, eps as tf.Tensor4D);
      const terms = diffusionLoss(
        { kind: 'simple', prediction: 'v' },
        schedule,
        out as tf.Tensor4D,
        x0 as tf.Tensor4D,
        xt,
        eps as tf.Tensor4D,
        t,
      );
      return tf.add(terms.perSample, tf.mul(tf.sum(xt), 1e-3));
    };
    const { cpu, gpu: out, errors } = await cpuAndWebGpu(f, inputs, PATHS[1]!);
    expect(errors).toEqual([]);
    for (const k of ['DappleQSample', 'DappleMse', 'DappleMseGrad']) expect(out.kernels).toContain(k);
    cpu.values.forEach((ref, i) => expect(maxRelErr(out.values[i]!, ref), `output ${i}`).toBeLessThan(1e-5));
    t.dispose();
  }, 120_000);
});
