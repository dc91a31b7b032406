/**
 * Training throughput of the `small` and `base` UNets on a GPU through WebGPU in Node: the `webgpu` npm
 * package (Dawn, prebuilt) + `@tensorflow/tfjs-backend-webgpu`, which has the conv backprop kernels, so
 * the native conv gradient is used. Neither package is a workspace dependency: install them next to this
 * script on the GPU machine (`npm i webgpu@0.6 @tensorflow/tfjs-backend-webgpu@4.22`), then
 *   npx tsx packages/diffusion/bench/gpu/webgpu-bench.ts [--presets small,base] [--batches 32,64,128] [--steps 10]
 * Prints one JSON line per case; compare with torch_unet.py run on the same GPU.
 */
import * as tf from '@tensorflow/tfjs';
import { presetConfig, type PresetName } from '../../src/presets.ts';
import { Rng } from '../../src/rng.ts';
import { makeSchedule } from '../../src/schedule.ts';
import { createTrainer } from '../../src/train.ts';
import { createUNet } from '../../src/unet.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const presets = arg('presets', 'small,base').split(',') as PresetName[];
const batches = arg('batches', '32,64,128').split(',').map(Number);
const steps = Number(arg('steps', '10'));

// Variable specifiers: these packages are installed only on the GPU machine, not in the workspace.
const webgpuPkg = 'webgpu';
const tfWebgpuPkg = '@tensorflow/tfjs-backend-webgpu';
const { create, globals } = (await import(webgpuPkg)) as { create: (flags: string[]) => unknown; globals: Record<string, unknown> };
Object.assign(globalThis, globals);
const gpu = create([]) as { requestAdapter(): Promise<{ info?: Record<string, string> } | null> };
Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
const adapter = await gpu.requestAdapter();
if (!adapter) {
  console.log(JSON.stringify({ bench: 'diffusion.train.webgpu', error: 'Dawn found no GPU adapter (needs a Vulkan driver)' }));
  process.exit(1);
}
await import(tfWebgpuPkg);
if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed");
await tf.ready();
const device = { vendor: adapter.info?.['vendor'], architecture: adapter.info?.['architecture'], description: adapter.info?.['description'] };

for (const preset of presets) {
  for (const batch of batches) {
    const config = presetConfig(preset);
    const model = createUNet(config, 0);
    const r = config.resolution;
    const images = tf.tidy(() => tf.clipByValue(new Rng(1).normal([batch, r, r, config.channels]), -1, 1)) as tf.Tensor4D;
    const t = tf.fill([batch], 500, 'int32') as tf.Tensor1D;
    const trainer = createTrainer({ model, schedule: makeSchedule({ kind: 'linear' }), prediction: 'eps', optimizer: { kind: 'adam' }, lr: 1e-4, clipNorm: 1, rng: new Rng(2) });
    try {
      for (let i = 0; i < 3; i++) await trainer.step({ images }); // shader compilation, allocations
      let start = performance.now();
      for (let i = 0; i < steps; i++) await trainer.step({ images }); // each step downloads its metrics: synchronous
      const stepMs = (performance.now() - start) / steps;
      const forward = async () => {
        const y = model.apply(images, t);
        await y.data();
        y.dispose();
      };
      await forward();
      start = performance.now();
      for (let i = 0; i < steps; i++) await forward();
      const forwardMs = (performance.now() - start) / steps;
      console.log(JSON.stringify({
        bench: 'diffusion.train.webgpu', preset, params: model.paramCount(), batch, device,
        stepMs: +stepMs.toFixed(1), imgPerSec: +((batch * 1000) / stepMs).toFixed(1),
        forwardImgPerSec: +((batch * 1000) / forwardMs).toFixed(1), trainOverForward: +(stepMs / forwardMs).toFixed(2),
      }));
    } catch (err) {
      console.log(JSON.stringify({ bench: 'diffusion.train.webgpu', preset, batch, error: String(err).slice(0, 300) }));
    } finally {
      trainer.dispose();
      model.dispose();
      tf.dispose([images, t]);
    }
  }
}
// Dawn keeps node alive while navigator.gpu is referenced.
Reflect.deleteProperty(globalThis, 'navigator');
process.exit(0);
