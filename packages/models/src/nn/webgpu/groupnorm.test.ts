import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { groupNorm } from '../groupnorm.ts';
import { maxRelErr, randomArray } from '../test-arrays.ts';
import { cpuAndWebGpu, PATHS, probeWebGpu, WEBGPU_SKIP_HINT } from './test-support.ts';

const gpu = await probeWebGpu();

const cases = [
  { b: 2, h: 4, w: 4, c: 8, groups: 4, silu: true, bias: true }, // the UNet's GN2 (time embedding fused)
  { b: 3, h: 5, w: 3, c: 12, groups: 4, silu: true, bias: false }, // odd sizes, 3 channels per group
  { b: 1, h: 2, w: 7, c: 6, groups: 1, silu: false, bias: false }, // one group, no SiLU (attention's GN)
  { b: 1, h: 9, w: 9, c: 7, groups: 7, silu: true, bias: false }, // one channel per group
  { b: 2, h: 16, w: 17, c: 3, groups: 1, silu: true, bias: true }, // 816 values per group: several rounds per thread
];

describe.skipIf(!gpu.ok)(
  `webgpu GroupNorm(+bias)(+SiLU) kernels${gpu.ok ? '' : ` (skipped: ${WEBGPU_SKIP_HINT})`}`,
  () => {
    for (const c of cases)
      for (const path of PATHS.slice(0, 2)) {
        it(`[${c.b},${c.h},${c.w},${c.c}] G${c.groups}${c.silu ? ' SiLU' : ''}${c.bias ? ' +bias' : ''} ${path.subgroups ? 'subgroups' : 'shared memory'}: values and gradients match cpu`, async () => {
          const inputs = [
            {
              values: randomArray(c.b * c.h * c.w * c.c, 1, 4).map((v, i) => v + (i % 5) * 0.3),
              shape: [c.b, c.h, c.w, c.c],
            },
            { values: randomArray(c.c, 2, 1).map((v) => v + 1), shape: [c.c] },
            { values: randomArray(c.c, 3, 1), shape: [c.c] },
            ...(c.bias ? [{ values: randomArray(c.b * c.c, 4, 2), shape: [c.b, c.c] }] : []),
          ];
          const f = (x: tf.Tensor, g: tf.Tensor, bt: tf.Tensor, bias?: tf.Tensor) =>
            groupNorm(x as tf.Tensor4D, g as tf.Tensor1D, bt as tf.Tensor1D, c.groups, {
              silu: c.silu,
              ...(bias ? { bias: bias as tf.Tensor2D } : {}),
            });
          const { cpu, gpu: out, errors } = await cpuAndWebGpu(f, inputs, path);
          expect(errors).toEqual([]);
          expect(out.kernels).toContain('DappleGroupNormForward');
          expect(out.kernels).toContain('DappleGroupNormBackward');
          expect(out.shapes).toEqual(cpu.shapes);
          cpu.values.forEach((ref, i) => expect(maxRelErr(out.values[i]!, ref), `output ${i}`).toBeLessThan(2e-5));
        }, 120_000);
      }
  },
);
