/**
 * Training and forward throughput of our TF.js UNet on a real GPU through WebGPU in Node: the `webgpu` npm package
 * (Dawn, prebuilt) + @tensorflow/tfjs-backend-webgpu, started by selectBackend({ prefer: 'webgpu' }) as the trainer
 * does. `KERNELS=dapple` (default) runs our WGSL kernels (src/nn/webgpu/); `tfjs` runs TF.js' own kernels, the path
 * before them. Training steps are queued and their metrics read once per timed block, as the trainer does.
 * Run on a GPU machine by bench/gpu/run-on-device.sh (bundled with esbuild; `webgpu` stays external).
 * Prints JSON lines: {"bench":"diffusion.gpu.train", "backend":"webgpu", "kernels", "preset", "batch", "imgPerSec", ...}.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import * as tfjsBackendWebGpu from '@tensorflow/tfjs-backend-webgpu';
import { selectBackend } from '../../src/backend.ts';
import { activeWebGpuDevice, provideTfjsBackendWebGpu, takeWebGpuErrors } from '../../src/backend/webgpu.ts';
import { presetConfig, type PresetName } from '../../src/diffusion/presets.ts';
import { createUNet } from '../../src/diffusion/unet.ts';
import { createTrainer } from '../../src/diffusion/train.ts';
import { makeSchedule } from '../../src/diffusion/schedule.ts';
import { Rng } from '../../src/rng.ts';
import { countGpuWork } from '../../src/nn/webgpu/gpu-work-counter.ts';
import { setWebGpuConvF16 } from '../../src/nn/webgpu/conv.ts';
import { setWebGpuKernels } from '../../src/nn/webgpu/enabled.ts';

const presets = (process.env.PRESETS ?? 'small,base').split(',') as PresetName[];
const batches = (process.env.BATCHES ?? '64').split(',').map(Number);
const steps = Number(process.env.STEPS ?? 10);
const kernelModes = (process.env.KERNELS ?? 'dapple').split(',') as ('dapple' | 'tfjs')[];
// f16: the trainer runs precision 'mixed-f16' (conv GEMM tiles in f16, sums f32, dynamic loss scaling) where the
// adapter has shader-f16; the forward timing stages its tiles in f16 too.
const f16Modes = (process.env.F16 ?? '0').split(',').map((v) => v === '1');

function emit(line: Record<string, unknown>): void {
  console.log(JSON.stringify(line));
}

provideTfjsBackendWebGpu(tfjsBackendWebGpu);
let report;
try {
  report = await selectBackend({ prefer: 'webgpu', fallback: false });
} catch (err) {
  emit({ bench: 'diffusion.gpu.setup', backend: 'webgpu', ok: false, error: String((err as Error).message) });
  process.exit(1);
}
const setup = {
  bench: 'diffusion.gpu.setup',
  backend: 'webgpu',
  adapter: report.adapter,
  loadAvg1m: +loadavg()[0]!.toFixed(2),
};
if (report.adapter?.software && process.env.ALLOW_SOFTWARE !== '1') {
  // lavapipe/SwiftShader: WebGPU on the CPU, hours for `base` at batch 64 and no GPU figure at all.
  emit({
    ...setup,
    ok: false,
    error: 'only a software WebGPU adapter: no GPU Vulkan driver found (ALLOW_SOFTWARE=1 runs on it anyway)',
  });
  process.exit(1);
}
emit({ ...setup, ok: true });
const counter = countGpuWork(activeWebGpuDevice()!);
const gpuBytes = () => (tf.memory() as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU ?? null;

for (const preset of presets) {
  const config = presetConfig(preset, { channels: 3, dropout: 0 });
  for (const batch of batches)
    for (const kernels of kernelModes)
      for (const f16 of kernels === 'dapple' ? f16Modes : [false]) {
        setWebGpuKernels(kernels === 'dapple');
        setWebGpuConvF16(f16);
        const model = createUNet(config, 1);
        const trainer = createTrainer({
          model,
          schedule: makeSchedule({ kind: 'linear', T: 1000 }),
          prediction: 'eps',
          optimizer: { kind: 'adam' },
          lr: 2e-4,
          rng: new Rng(1),
          precision: f16 ? 'mixed-f16' : 'fp32',
        });
        const images = tf.randomUniform([batch, config.resolution, config.resolution, 3], -1, 1) as tf.Tensor4D;
        try {
          // Forward (one sampling step): warm up the pipelines, then time.
          const t = tf.fill([batch], 500, 'int32') as tf.Tensor1D;
          for (let i = 0; i < 2; i++) {
            const out = tf.tidy(() => model.apply(images, t));
            await out.data();
            out.dispose();
          }
          counter.reset();
          let start = performance.now();
          for (let i = 0; i < steps; i++) {
            const out = tf.tidy(() => model.apply(images, t));
            await out.data();
            out.dispose();
          }
          const forwardMs = (performance.now() - start) / steps;
          const forwardWork = counter.read();
          t.dispose();

          for (let i = 0; i < 2; i++) await trainer.step({ images });
          counter.reset();
          start = performance.now();
          for (let i = 0; i < steps; i++) trainer.queueStep({ images });
          const metrics = await trainer.flushMetrics(); // waits for the GPU: the timed block ends here
          const trainMs = (performance.now() - start) / steps;
          const trainWork = counter.read();
          const last = metrics[metrics.length - 1]!;
          const loss = last.loss;
          const errors = takeWebGpuErrors();
          emit({
            bench: 'diffusion.gpu.train',
            backend: 'webgpu',
            kernels,
            f16,
            precision: trainer.precision.active,
            ...(last.lossScale !== undefined ? { lossScale: last.lossScale, skippedSteps: last.skippedSteps } : {}),
            preset,
            params: model.paramCount(),
            batch,
            imgPerSec: +(batch / (trainMs / 1000)).toFixed(1),
            forwardImgPerSec: +(batch / (forwardMs / 1000)).toFixed(1),
            trainOverForward: +(trainMs / forwardMs).toFixed(2),
            stepMs: +trainMs.toFixed(1),
            dispatchesPerStep: +(trainWork.dispatches / steps).toFixed(1),
            submitsPerStep: +(trainWork.submits / steps).toFixed(2),
            forwardDispatches: +(forwardWork.dispatches / steps).toFixed(1),
            gpuBytesAllocated: gpuBytes(),
            loss: +loss.toFixed(4),
            ...(Number.isFinite(loss) && errors.length === 0
              ? {}
              : { error: errors[0] ?? 'loss is not finite', errorCount: errors.length }),
            numTensors: tf.memory().numTensors,
          });
        } catch (err) {
          emit({
            bench: 'diffusion.gpu.train',
            backend: 'webgpu',
            kernels,
            f16,
            preset,
            batch,
            error: String((err as Error)?.message ?? err),
          });
        } finally {
          images.dispose();
          trainer.dispose();
          model.dispose();
        }
      }
}
process.exit(0);
