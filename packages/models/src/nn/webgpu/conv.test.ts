import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { conv2d } from '../conv.ts';
import { maxRelErr, randomArray } from '../test-arrays.ts';
import { f16GemmDispatches, setWebGpuConvF16 } from './conv.ts';
import { selectBackend } from '../../backend.ts';
import { deviceCaps, webgpuInternals } from './runtime.ts';
import { cpuAndWebGpu, PATHS, probeWebGpu, WEBGPU_SKIP_HINT } from './test-support.ts';

const gpu = await probeWebGpu();
/** Whether the adapter offers shader-f16 (else the f16 path stages f32 tiles). */
const deviceF16 = gpu.ok && (await adapterOffersF16());

async function adapterOffersF16(): Promise<boolean> {
  await selectBackend({ prefer: 'webgpu', fallback: false });
  const f16 = deviceCaps(webgpuInternals()!.device).f16;
  await selectBackend({ prefer: 'cpu', fallback: false });
  return f16;
}

const GEMMS = ['DappleConv2D', 'DappleConv2DInputGrad', 'DappleConv2DFilterGrad'];

interface Case {
  b: number;
  h: number;
  w: number;
  k: number;
  stride: number;
  cin: number;
  cout: number;
  residual?: boolean;
  f16?: boolean;
}

const cases: Case[] = [
  { b: 2, h: 6, w: 5, k: 3, stride: 1, cin: 5, cout: 7, residual: true, f16: true }, // odd sizes, residual fused
  { b: 2, h: 7, w: 8, k: 3, stride: 2, cin: 4, cout: 33 }, // downsampling, odd height, N tile of 64
  { b: 1, h: 4, w: 6, k: 1, stride: 1, cin: 20, cout: 3 }, // 1×1 (skip conv), narrow output
  { b: 3, h: 3, w: 3, k: 5, stride: 1, cin: 3, cout: 17 }, // taps that reach past the image
  { b: 8, h: 16, w: 16, k: 3, stride: 1, cin: 4, cout: 4, f16: true }, // K = 2048 pixels: filter gradient split along K
];

describe.skipIf(!gpu.ok)(`webgpu conv kernels${gpu.ok ? '' : ` (skipped: ${WEBGPU_SKIP_HINT})`}`, () => {
  for (const c of cases)
    // f16-staged tiles on two shapes (one with a split filter gradient); f32 on all.
    for (const path of c.f16 ? [PATHS[0]!, PATHS[2]!] : [PATHS[0]!]) {
      const label = `[${c.b},${c.h},${c.w},${c.cin}] ${c.k}×${c.k}/${c.stride} → ${c.cout}${c.residual ? ' +residual' : ''}`;
      it(`${label} ${path.f16 ? 'f16 tiles' : 'f32'}: values and gradients match cpu`, async () => {
        const ho = Math.ceil(c.h / c.stride);
        const wo = Math.ceil(c.w / c.stride);
        const inputs = [
          { values: randomArray(c.b * c.h * c.w * c.cin, 11, 2), shape: [c.b, c.h, c.w, c.cin] },
          { values: randomArray(c.k * c.k * c.cin * c.cout, 12, 1), shape: [c.k, c.k, c.cin, c.cout] },
          { values: randomArray(c.cout, 13, 1), shape: [c.cout] },
          ...(c.residual ? [{ values: randomArray(c.b * ho * wo * c.cout, 14, 1), shape: [c.b, ho, wo, c.cout] }] : []),
        ];
        const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, r?: tf.Tensor) =>
          conv2d(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, c.stride, r as tf.Tensor4D | undefined);
        setWebGpuConvF16(path.f16);
        try {
          const f16Before = f16GemmDispatches();
          const { cpu, gpu: out, errors } = await cpuAndWebGpu(f, inputs, path);
          expect(errors).toEqual([]);
          for (const k of GEMMS) expect(out.kernels).toContain(k);
          // The counter (bench/webgpu-precision.ts reads it) counts each GEMM dispatched with f16 tiles, once.
          const gemms = out.kernels.filter((k) => GEMMS.includes(k)).length;
          expect(f16GemmDispatches() - f16Before).toBe(path.f16 && deviceF16 ? gemms : 0);
          expect(out.shapes).toEqual(cpu.shapes);
          // f16 staging rounds inputs to 11 significant bits.
          const tol = path.f16 ? 3e-3 : 1e-5;
          cpu.values.forEach((ref, i) => expect(maxRelErr(out.values[i]!, ref), `output ${i}`).toBeLessThan(tol));
        } finally {
          setWebGpuConvF16(false);
        }
      }, 120_000);
    }
});
