import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../backend.ts';
import { takeWebGpuErrors } from '../../backend/webgpu.ts';
import { loadCheckpoint, saveCheckpoint } from '../../checkpoint/checkpoint.ts';
import { memoryHandler } from '../../checkpoint/memory-handler.ts';
import { presetConfig } from '../../diffusion/presets.ts';
import { ddimSample } from '../../diffusion/samplers/ddim.ts';
import { makeSchedule } from '../../diffusion/schedule.ts';
import { createTrainer } from '../../diffusion/train.ts';
import { createUNet, type UNet } from '../../diffusion/unet.ts';
import { Rng } from '../../rng.ts';
import { trainFixedBatch } from '../../../bench/fixed-batch-run.ts';
import { maxRelErr } from '../test-arrays.ts';
import { f16GemmDispatches, webGpuConvF16 } from './conv.ts';
import { logDispatches, pipelinesCreated } from './runtime.ts';
import { setWebGpuKernels } from './enabled.ts';
import { blobImages, probeWebGpu, WEBGPU_SKIP_HINT } from './test-support.ts';

const gpu = await probeWebGpu();
/**
 * lavapipe compiles each WGSL pipeline with LLVM on its first dispatch (Mesa keeps them in
 * ~/.cache/mesa_shader_cache): this file's two fp32 cases compile ~290 pipelines. With a cold cache on this 2-core
 * machine they took 526 s at the host's 512-bit vectors and 143 s at the 128-bit ones the root vitest.config.ts asks
 * for (LP_NATIVE_VECTOR_WIDTH), and 78 s once `sample` drew as many images as a training batch holds (at 2, every
 * forward pipeline was compiled again for the new shapes: 64 s of the 143); with a warm cache ~10 s.
 */
const TRAINING_TIMEOUT_MS = 600_000;
/**
 * The mixed-f16 training run compiles ~70 f16 pipelines of its own: on a cold Mesa cache (a CI machine) 509 s of
 * lavapipe compiles at 512-bit vectors, which put `npm test` past 30 minutes, and still 160 s at 128-bit ones (load
 * average ~5), more than the two fp32 cases together. It runs where
 * DAPPLE_WEBGPU_MIXED=1; the pieces it puts together stay tested on every run (loss-scale.test.ts, conv.test.ts' f16
 * tiles), and bench/webgpu-precision.ts runs the same steps.
 */
const MIXED_F16_RUN = process.env['DAPPLE_WEBGPU_MIXED'] === '1';
const config = presetConfig('tiny', { channels: 1, resolution: 8, channelMults: [1, 2], dropout: 0 });
const schedule = makeSchedule({ kind: 'linear', T: 100 });

async function train(steps: number, fixed: boolean, tensorCounts: number[] = []) {
  const model = createUNet(config, 5);
  const rng = new Rng(21);
  const trainer = createTrainer({
    model,
    schedule,
    prediction: 'eps',
    optimizer: { kind: 'adam' },
    lr: 3e-3,
    clipNorm: 1,
    rng,
  });
  const x = blobImages(4, 3, config.resolution);
  const start = rng.getState();
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    if (fixed) rng.setState(start); // the same t and noise every step: the loss must fall fast
    trainer.queueStep({ images: x });
    if ((i + 1) % 5 === 0 || i === steps - 1) {
      // (every 5 steps here; the trainer app reads every 10)
      losses.push(...(await trainer.flushMetrics()).map((m) => m.loss));
      tensorCounts.push(tf.memory().numTensors);
    }
  }
  x.dispose();
  return { model, trainer, losses };
}

async function sample(model: UNet): Promise<Float32Array> {
  const r = config.resolution;
  const out = await ddimSample({
    denoiser: (xt, t) => model.apply(xt, t),
    schedule,
    prediction: 'eps',
    shape: [4, r, r, 1], // the training batch's size, whose forward pipelines are compiled already
    seed: 9,
    steps: 4,
  });
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return values;
}

async function weights(model: UNet): Promise<Float32Array[]> {
  return Promise.all([...model.variables.values()].map(async (v) => (await v.data()) as Float32Array));
}

describe.skipIf(!gpu.ok)(`training on webgpu${gpu.ok ? '' : ` (skipped: ${WEBGPU_SKIP_HINT})`}`, () => {
  it(
    'real steps with our kernels: the loss of a fixed batch falls, metrics read every 5 steps, no leaks',
    async () => {
      await selectBackend({ prefer: 'webgpu', fallback: false });
      setWebGpuKernels(true);
      takeWebGpuErrors();
      logDispatches(true);
      const counts: number[] = [];
      const { model, trainer, losses } = await train(10, true, counts);
      const kernels = new Set(logDispatches(false));
      trainer.dispose();
      model.dispose();
      expect(takeWebGpuErrors()).toEqual([]);
      for (const k of ['DappleConv2D', 'DappleGroupNormBackward', 'DappleAttention', 'DappleAdamEma', 'DappleMse'])
        expect(kernels).toContain(k);
      expect(losses).toHaveLength(10);
      expect(losses[0]).toBeGreaterThan(0.5);
      expect(Math.min(...losses.slice(-3))).toBeLessThan(losses[0]! / 3);
      expect(counts[1]).toBe(counts[0]); // no tensor leaks from one step to the next

      await selectBackend({ prefer: 'cpu', fallback: false });
    },
    TRAINING_TIMEOUT_MS,
  );

  it(
    'the same model and samples as wasm: trained on webgpu, its checkpoint samples the same images on wasm',
    async () => {
      await selectBackend({ prefer: 'webgpu', fallback: false });
      setWebGpuKernels(true);
      const gpuRun = await train(3, false);
      const gpuWeights = await weights(gpuRun.model);
      const gpuImages = await sample(gpuRun.model);
      const state = gpuRun.trainer.getState();
      const handler = memoryHandler();
      await saveCheckpoint(handler, {
        variables: gpuRun.model.variables,
        optimizer: state.optimizer,
        ...(state.ema ? { ema: state.ema } : {}),
        step: state.step,
        rngState: state.rngState,
        config: null,
      });
      gpuRun.trainer.dispose();
      gpuRun.model.dispose();

      await selectBackend({ prefer: 'wasm', fallback: false });
      // The checkpoint written on webgpu, read on wasm: the same weights bit for bit, the same images.
      const ckpt = await loadCheckpoint(handler);
      const loaded = createUNet(config, 0);
      for (const [name, v] of loaded.variables) v.assign(ckpt.variables.get(name)!);
      expect(await weights(loaded)).toEqual(gpuWeights);
      const wasmImages = await sample(loaded);
      expect(maxRelErr(gpuImages, wasmImages)).toBeLessThan(1e-4);
      // The same three steps trained on wasm from the same seed land on the same weights (float tolerance).
      const wasmRun = await train(3, false);
      const wasmWeights = await weights(wasmRun.model);
      expect(
        maxRelErr(
          gpuWeights.flatMap((w) => Array.from(w)),
          wasmWeights.flatMap((w) => Array.from(w)),
        ),
      ).toBeLessThan(1e-3);
      expect(maxRelErr(gpuRun.losses, wasmRun.losses)).toBeLessThan(1e-4);
      tf.dispose([...ckpt.variables.values(), ...(ckpt.optimizer?.values() ?? []), ...(ckpt.ema?.values() ?? [])]);
      loaded.dispose();
      wasmRun.trainer.dispose();
      wasmRun.model.dispose();
      await selectBackend({ prefer: 'cpu', fallback: false });
    },
    TRAINING_TIMEOUT_MS,
  );

  it.runIf(MIXED_F16_RUN)(
    'trains in mixed-f16 (f16 tiles, loss scaling): the loss of the fixed batch falls, S and skipped steps in the metrics; fp32 steps after it run as before',
    async () => {
      // Last in this file, after the fp32 runs above: in this process only the f16 GEMM and loss-scaling pipelines
      // are new (70 on lavapipe), and no case after it compiles anything.
      await selectBackend({ prefer: 'webgpu', fallback: false });
      setWebGpuKernels(true);
      takeWebGpuErrors();
      // fp32 steps before and after the mixed-f16 run (a trainer process goes on with fp32 work after one): the
      // steps after must reuse the pipelines of the steps before (none created, as f16 staging left on, a new
      // device or a cache key that never hits would) and stage no GEMM in f16.
      const before = await train(2, true);
      before.trainer.dispose();
      before.model.dispose();
      const f16Before = f16GemmDispatches();
      const mixed = await trainFixedBatch('mixed-f16', config, 10);
      expect(takeWebGpuErrors()).toEqual([]);
      expect(mixed.precision.active).toBe('mixed-f16');
      expect(f16GemmDispatches()).toBeGreaterThan(f16Before); // the steps' convolutions staged in f16
      expect(webGpuConvF16()).toBe(false); // and only they did
      const losses = mixed.metrics.map((m) => m.loss);
      expect(losses[0]).toBeGreaterThan(0.5);
      expect(Math.min(...losses.slice(-3))).toBeLessThan(losses[0]! / 3);
      expect(mixed.metrics.map((m) => [m.lossScale, m.skipped, m.skippedSteps])).toEqual(
        Array(10).fill([2 ** 15, false, 0]),
      );

      const pipelinesBefore = pipelinesCreated();
      const f16After = f16GemmDispatches();
      const after = await train(2, true);
      after.trainer.dispose();
      after.model.dispose();
      expect(takeWebGpuErrors()).toEqual([]);
      expect(f16GemmDispatches()).toBe(f16After);
      expect(pipelinesCreated()).toBe(pipelinesBefore);
      await selectBackend({ prefer: 'cpu', fallback: false });
    },
    TRAINING_TIMEOUT_MS,
  );
});
