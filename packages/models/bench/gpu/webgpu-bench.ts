/**
 * Training and forward throughput of our TF.js UNet on a real GPU through WebGPU in Node:
 * the `webgpu` npm package (Dawn, prebuilt) + @tensorflow/tfjs-backend-webgpu (which has the conv backprop kernels).
 * Run on a GPU machine by bench/gpu/run-on-device.sh (bundled with esbuild; `webgpu` stays external).
 * Prints JSON lines: {"bench":"diffusion.gpu.train", "backend":"webgpu", "preset", "batch", "imgPerSec", ...}.
 */
import './webgpu-globals.ts';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { presetConfig, type PresetName } from '../../src/diffusion/presets.ts';
import { createUNet } from '../../src/diffusion/unet.ts';
import { createTrainer } from '../../src/diffusion/train.ts';
import { makeSchedule } from '../../src/diffusion/schedule.ts';
import { Rng } from '../../src/rng.ts';
import { setConvGradMode, type ConvGradMode } from '../../src/nn/conv.ts';

const presets = (process.env.PRESETS ?? 'small,base').split(',') as PresetName[];
const batches = (process.env.BATCHES ?? '32,64').split(',').map(Number);
const steps = Number(process.env.STEPS ?? 10);
// native: the webgpu backend's own Conv2DBackpropFilter/Input; custom: our forward-conv/matMul gradient.
const convModes = (process.env.CONV_MODES ?? 'native,custom').split(',') as ConvGradMode[];

function emit(line: Record<string, unknown>): void {
  console.log(JSON.stringify(line));
}

const ok = await tf.setBackend('webgpu');
await tf.ready();
if (!ok || tf.getBackend() !== 'webgpu') {
  emit({ bench: 'diffusion.gpu.setup', backend: 'webgpu', ok: false, error: 'tf.setBackend("webgpu") failed' });
  process.exit(1);
}
const adapterInfo = await (globalThis as any).navigator.gpu.requestAdapter().then((a: any) => a?.info ?? null);
emit({ bench: 'diffusion.gpu.setup', backend: 'webgpu', ok: true, adapter: adapterInfo });

for (const preset of presets) {
  const config = presetConfig(preset, { channels: 3, dropout: 0 });
  for (const batch of batches)
    for (const convMode of convModes) {
      setConvGradMode(convMode);
      const model = createUNet(config, 1);
      const trainer = createTrainer({
        model,
        schedule: makeSchedule({ kind: 'linear', T: 1000 }),
        prediction: 'eps',
        optimizer: { kind: 'adam' },
        lr: 2e-4,
        rng: new Rng(1),
      });
      const images = tf.randomUniform([batch, config.resolution, config.resolution, 3], -1, 1) as tf.Tensor4D;
      try {
        // Forward (one sampling step): warm up shaders, then time.
        const t = tf.fill([batch], 500, 'int32') as tf.Tensor1D;
        // (No dataSync: the webgpu backend's synchronous read needs OffscreenCanvas, which Node lacks.)
        for (let i = 0; i < 2; i++) {
          const out = tf.tidy(() => model.apply(images, t));
          await out.data();
          out.dispose();
        }
        let start = performance.now();
        for (let i = 0; i < steps; i++) {
          const out = tf.tidy(() => model.apply(images, t));
          await out.data();
          out.dispose();
        }
        const forwardMs = (performance.now() - start) / steps;
        t.dispose();

        for (let i = 0; i < 2; i++) await trainer.step({ images });
        start = performance.now();
        let loss = 0;
        for (let i = 0; i < steps; i++) loss = (await trainer.step({ images })).loss;
        const trainMs = (performance.now() - start) / steps;
        emit({
          bench: 'diffusion.gpu.train',
          backend: 'webgpu',
          convGrad: convMode,
          preset,
          params: model.paramCount(),
          batch,
          imgPerSec: +(batch / (trainMs / 1000)).toFixed(1),
          forwardImgPerSec: +(batch / (forwardMs / 1000)).toFixed(1),
          trainOverForward: +(trainMs / forwardMs).toFixed(2),
          stepMs: +trainMs.toFixed(1),
          loss: +loss.toFixed(4),
          ...(Number.isFinite(loss)
            ? {}
            : { error: 'loss is not finite: a WebGPU pipeline failed validation (see stderr)' }),
          numTensors: tf.memory().numTensors,
        });
      } catch (err) {
        emit({
          bench: 'diffusion.gpu.train',
          backend: 'webgpu',
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
