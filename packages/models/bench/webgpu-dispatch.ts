/**
 * GPU dispatches and command-buffer submits per training step and per sampling (DDIM) step on the webgpu backend,
 * for the tiny, small and base presets: with TF.js' own kernels (`kernels: "tfjs"`, the path before nn/webgpu/)
 * and with ours (`"dapple"`), in the same process. The counts are the same on any adapter (ours do not depend on
 * the batch either; TF.js' move a little: base 3,868 vs 3,923 per training step at batch 2 and 1), so lavapipe
 * (Mesa's software Vulkan) measures what an H100 would run; times are not reported.
 * Usage: tsx bench/webgpu-dispatch.ts [--presets tiny,small,base] [--batch 2]
 * Needs a WebGPU adapter; forces the webgpu backend even on a software one. On lavapipe most of the time is LLVM
 * compiling pipelines on their first dispatch: `LP_NATIVE_VECTOR_WIDTH=128` (as the tests run) cuts that to about a
 * third, and the counts do not depend on it.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.ts';
import { activeWebGpuDevice, SUBMIT_BATCH } from '../src/backend/webgpu.ts';
import { presetConfig, type PresetName } from '../src/diffusion/presets.ts';
import { makeSchedule } from '../src/diffusion/schedule.ts';
import { ddimSample } from '../src/diffusion/samplers/ddim.ts';
import { createTrainer } from '../src/diffusion/train.ts';
import { createUNet } from '../src/diffusion/unet.ts';
import { countGpuWork, type GpuWork } from '../src/nn/webgpu/gpu-work-counter.ts';
import { setWebGpuKernels } from '../src/nn/webgpu/enabled.ts';
import { Rng } from '../src/rng.ts';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const presets = arg('presets', 'tiny,small,base').split(',') as PresetName[];
const batch = Number(arg('batch', '2'));
const modes = arg('kernels', 'tfjs,dapple').split(',') as ('tfjs' | 'dapple')[];

const report = await selectBackend({ prefer: 'webgpu', fallback: false });
const device = activeWebGpuDevice()!;
const counter = countGpuWork(device);
const adapter = report.adapter!;

function perStep(w: GpuWork, n: number): GpuWork {
  const r = (v: number) => +(v / n).toFixed(2);
  return { dispatches: r(w.dispatches), submits: r(w.submits), copies: r(w.copies), writes: r(w.writes) };
}

function diff(a: GpuWork, b: GpuWork): GpuWork {
  return {
    dispatches: b.dispatches - a.dispatches,
    submits: b.submits - a.submits,
    copies: b.copies - a.copies,
    writes: b.writes - a.writes,
  };
}

async function countDdim(model: ReturnType<typeof createUNet>, steps: number): Promise<GpuWork> {
  const schedule = makeSchedule({ kind: 'linear', T: 1000 });
  const r = model.config.resolution;
  counter.reset();
  const x = await ddimSample({
    denoiser: (xt, t) => model.apply(xt, t),
    schedule,
    prediction: 'eps',
    shape: [batch, r, r, model.config.channels],
    seed: 1,
    steps,
  });
  await x.data();
  x.dispose();
  return counter.read();
}

/** Today's path ran with TF.js' submit batching (15 dispatches); ours with the one backend/webgpu.ts sets. */
function setSubmitBatch(mode: 'tfjs' | 'dapple'): void {
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', mode === 'tfjs' ? 15 : SUBMIT_BATCH);
}

const results: Record<string, Record<string, { train: GpuWork; sample: GpuWork }>> = {};
for (const preset of presets) {
  for (const mode of modes) {
    setWebGpuKernels(mode === 'dapple');
    const config = presetConfig(preset, { dropout: 0 });
    const model = createUNet(config, 0);
    const trainer = createTrainer({
      model,
      schedule: makeSchedule({ kind: 'linear', T: 1000 }),
      prediction: 'eps',
      optimizer: { kind: 'adam' },
      lr: 1e-4,
      clipNorm: 1,
      rng: new Rng(1),
    });
    const r = config.resolution;
    const images = tf.tidy(() =>
      tf.clipByValue(new Rng(2).normal([batch, r, r, config.channels]), -1, 1),
    ) as tf.Tensor4D;
    setSubmitBatch(mode);
    await trainer.step({ images }); // compiles the pipelines
    counter.reset();
    let loss: number;
    let train: GpuWork;
    let flush: GpuWork | null = null;
    if (mode === 'tfjs') {
      // Today's trainer: every step reads its metrics back.
      loss = (await trainer.step({ images })).loss;
      train = counter.read();
    } else {
      // Ours: steps queue their metrics on the device; the trainer reads them every few steps in one go.
      trainer.queueStep({ images });
      train = counter.read();
      counter.reset();
      loss = (await trainer.flushMetrics())[0]!.loss;
      flush = counter.read();
    }
    // One sampling step = (DDIM with 6 steps − DDIM with 2) / 4: the start and the final clip cancel out, and
    // submits (one per SUBMIT_BATCH dispatches) average over the steps.
    setSubmitBatch(mode);
    await countDdim(model, 2);
    const sample = perStep(diff(await countDdim(model, 2), await countDdim(model, 6)), 4);
    (results[preset] ??= {})[mode] = { train, sample };
    console.log(
      JSON.stringify({
        bench: 'diffusion.webgpu.dispatches',
        kernels: mode,
        preset,
        params: model.paramCount(),
        batch,
        train,
        ...(flush ? { metricsFlush: flush } : {}),
        sample,
        loss: +loss.toFixed(4),
        adapter: `${adapter.vendor} ${adapter.architecture} ${adapter.description}`,
        features: adapter.deviceFeatures,
        loadAvg1m: +loadavg()[0]!.toFixed(2),
      }),
    );
    images.dispose();
    trainer.dispose();
    model.dispose();
  }
  const before = results[preset]?.tfjs;
  const after = results[preset]?.dapple;
  if (before && after) {
    console.log(
      JSON.stringify({
        bench: 'diffusion.webgpu.dispatches.ratio',
        preset,
        trainDispatches: [before.train.dispatches, after.train.dispatches],
        trainSubmits: [before.train.submits, after.train.submits],
        sampleDispatches: [before.sample.dispatches, after.sample.dispatches],
        sampleSubmits: [before.sample.submits, after.sample.submits],
        trainDispatchRatio: +(after.train.dispatches / before.train.dispatches).toFixed(3),
        sampleDispatchRatio: +(after.sample.dispatches / before.sample.dispatches).toFixed(3),
      }),
    );
  }
}
counter.dispose();
process.exit(0);
