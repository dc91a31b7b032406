import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../backend.ts';
import { takeWebGpuErrors } from '../../backend/webgpu.ts';
import { presetConfig } from '../../diffusion/presets.ts';
import { makeSchedule } from '../../diffusion/schedule.ts';
import { createTrainer } from '../../diffusion/train.ts';
import { createUNet } from '../../diffusion/unet.ts';
import { Ema } from '../../optim/ema.ts';
import { flatNormAndClipScale } from '../../optim/flat.ts';
import { LossScaler, type LossScaleConfig } from '../../optim/loss-scale.ts';
import { createOptimizer } from '../../optim/optimizers.ts';
import { Rng } from '../../rng.ts';
import { maxRelErr, randomArray } from '../test-arrays.ts';
import { deviceCaps, logDispatches, webgpuInternals } from './runtime.ts';
import { setWebGpuKernels } from './enabled.ts';
import { probeWebGpu, WEBGPU_SKIP_HINT } from './test-support.ts';

const gpu = await probeWebGpu();

// The shapes of optim.test.ts: one bucket, and a variable large enough for several workgroups of the norm pass.
const shapes: Record<string, number[]> = { a: [7], b: [3, 4], c: [3], d: [5000] };
const CLIP = 20; // below the gradients' norms (~120): clipping is active, so the norm it uses must be the unscaled one

const floats = async (ts: Iterable<tf.Tensor>) =>
  (await Promise.all([...ts].map((t) => t.data()))).flatMap((d) => Array.from(d as Float32Array));

/**
 * Steps of Adam + clipping + EMA (the trainer's fused update) on fixed gradients, fp32 or loss-scaled: the scaled
 * run is handed S·g (S read from the scaler before each step); `poison` puts a value (inf, NaN) into one gradient
 * value of the steps it names.
 */
async function run(steps: number, scaling: LossScaleConfig | null, poison: Record<number, number> = {}) {
  const variables = new Map(
    Object.entries(shapes).map(([name, s], i) => [
      name,
      tf.variable(tf.tensor(randomArray(tf.util.sizeFromShape(s), i + 1), s)),
    ]),
  );
  const optimizer = createOptimizer(variables, { kind: 'adamw', weightDecay: 0.05 });
  const ema = new Ema(variables, { maxDecay: 0.9 });
  const scaler = scaling ? new LossScaler(scaling) : null;
  const snapshot = async () => ({
    params: await floats(variables.values()),
    // (without `step`: Adam's bias-correction counter advances on a skipped step, as the lr schedule does)
    moments: await floats([...optimizer.getState()].filter(([k]) => k !== 'step').map(([, t]) => t)),
    shadow: await floats(ema.shadow.values()),
    scaler: scaler ? await floats([scaler.state]) : [],
  });
  const norms: number[] = [];
  const states = [await snapshot()];
  for (let step = 0; step < steps; step++) {
    const s = scaler ? (await scaler.state.data())[0]! : 1;
    const flats = optimizer.layout.buckets.map((b, i) => {
      const g = randomArray(b.size, 100 + 10 * step + i, 3).map((v) => v * s);
      const bad = poison[step];
      if (bad !== undefined) g[4321] = bad;
      return tf.tensor1d(g);
    });
    if (scaler) {
      const { norm, gate, after } = scaler.step(flats, CLIP);
      optimizer.applyFlat(flats, 0.01, gate, ema, true);
      norms.push((await norm.data())[0]!);
      tf.dispose([norm, gate, after]);
    } else {
      const { norm, scale } = flatNormAndClipScale(flats, CLIP);
      optimizer.applyFlat(flats, 0.01, scale, ema);
      norms.push((await norm.data())[0]!);
      tf.dispose([norm, ...(scale ? [scale] : [])]);
    }
    tf.dispose(flats);
    states.push(await snapshot());
  }
  optimizer.dispose();
  ema.dispose();
  scaler?.dispose();
  tf.dispose([...variables.values()]);
  return { norms, states };
}

describe('trainer precision option', () => {
  it('falls back to fp32 off webgpu and says why; rejects bad values naming the field', async () => {
    await selectBackend({ prefer: 'cpu', fallback: false });
    const model = createUNet(SMALL, 1);
    const base = {
      model,
      schedule: makeSchedule({ kind: 'linear', T: 100 }),
      prediction: 'eps' as const,
      optimizer: { kind: 'adam' as const },
      lr: 1e-3,
      rng: new Rng(1),
    };
    const trainer = createTrainer({ ...base, precision: 'mixed-f16' });
    expect(trainer.precision).toEqual({
      requested: 'mixed-f16',
      active: 'fp32',
      note: 'precision fp32 (mixed-f16 requested, but it needs the webgpu backend and this is cpu: training in fp32)',
    });
    trainer.dispose();
    expect(() => createTrainer({ ...base, precision: 'bf16' as never })).toThrow(
      /trainer.precision must be one of fp32, mixed-f16, got "bf16"/,
    );
    expect(() => createTrainer({ ...base, precision: 'mixed-f16', lossScale: { initialScale: 1000 } })).toThrow(
      /trainer.lossScale.initialScale must be a power of two, got 1000/,
    );
    expect(() => createTrainer({ ...base, precision: 'mixed-f16', lossScale: { growthInterval: 0 } })).toThrow(
      /trainer.lossScale.growthInterval must be a whole number/,
    );
    model.dispose();
  });
});

describe.skipIf(!gpu.ok)(`loss scaling on webgpu${gpu.ok ? '' : ` (skipped: ${WEBGPU_SKIP_HINT})`}`, () => {
  it("the trainer's precision follows its own optimizer: mixed-f16 only where Adam and the EMA run fused", async () => {
    await selectBackend({ prefer: 'webgpu', fallback: false });
    setWebGpuKernels(true);
    const f16 = deviceCaps(webgpuInternals()!.device).f16;
    const model = createUNet(SMALL, 1);
    const base = {
      model,
      schedule: makeSchedule({ kind: 'linear', T: 100 }),
      prediction: 'eps' as const,
      lr: 1e-3,
      precision: 'mixed-f16' as const,
    };
    const noF16 = 'precision fp32 (mixed-f16 requested, but the adapter does not offer shader-f16: training in fp32)';
    const unfused =
      'precision fp32 (mixed-f16 requested, but loss scaling needs Adam(W) with the EMA on (their fused update skips overflows): training in fp32)';
    const cases = [
      { optimizer: { kind: 'adam' as const }, ema: {}, note: f16 ? null : noF16 },
      // EMA on, as the trainer app's old `emaDecay > 0` proxy saw it, but SGD has no fused Adam+EMA kernel.
      { optimizer: { kind: 'sgd' as const, momentum: 0.9 }, ema: {}, note: f16 ? unfused : noF16 },
      { optimizer: { kind: 'adamw' as const, weightDecay: 0.01 }, ema: false as const, note: f16 ? unfused : noF16 },
    ];
    for (const c of cases) {
      const trainer = createTrainer({ ...base, optimizer: c.optimizer, ema: c.ema, rng: new Rng(1) });
      try {
        const fused = trainer.ema !== null && trainer.optimizer.fusesEma(trainer.ema);
        expect(fused, c.optimizer.kind).toBe(c.optimizer.kind !== 'sgd' && c.ema !== false);
        expect(trainer.precision, c.optimizer.kind).toEqual({
          requested: 'mixed-f16',
          active: c.note === null ? 'mixed-f16' : 'fp32',
          note: c.note ?? 'precision mixed-f16 (GEMM tiles in f16, f32 sums; dynamic loss scaling)',
        });
      } finally {
        trainer.dispose();
      }
    }
    model.dispose();
    await selectBackend({ prefer: 'cpu', fallback: false });
  }, 120_000);

  it('gradients of S·loss, unscaled in the fused step, give the fp32 update; S doubles after K finite steps', async () => {
    await selectBackend({ prefer: 'webgpu', fallback: false });
    setWebGpuKernels(true);
    takeWebGpuErrors();
    const ref = await run(3, null);
    logDispatches(true);
    const scaled = await run(3, { growthInterval: 2 });
    const kernels = logDispatches(false);
    expect(takeWebGpuErrors()).toEqual([]);
    expect(kernels.slice(0, 4)).toEqual([
      'DappleGlobalNormPartial',
      'DappleGlobalNorm',
      'DappleLossScaleStep',
      'DappleAdamEma',
    ]);
    // S is a power of two, so S·g and the unscaling are exact: the only rounding difference is the norm's
    // sqrt(‖S·g‖²)/S, which moves the clipping factor by an ulp. Tolerance 1e-6 relative.
    expect(ref.norms[0]).toBeGreaterThan(CLIP);
    expect(maxRelErr(scaled.norms, ref.norms)).toBeLessThan(1e-6);
    for (const k of ['params', 'moments', 'shadow'] as const)
      expect(maxRelErr(scaled.states[3]![k], ref.states[3]![k]), k).toBeLessThan(1e-6);
    // [S, finite steps in a row, skipped, last skipped]: 2^15 for two steps, then doubled (K = 2), counter reset.
    expect(scaled.states.map((s) => s.scaler)).toEqual([
      [2 ** 15, 0, 0, 0],
      [2 ** 15, 1, 0, 0],
      [2 ** 16, 0, 0, 0],
      [2 ** 16, 1, 0, 0],
    ]);
    await selectBackend({ prefer: 'cpu', fallback: false });
  }, 120_000);

  it('an overflowing step is skipped on the device: weights, moments and EMA unchanged bit for bit, S halved', async () => {
    await selectBackend({ prefer: 'webgpu', fallback: false });
    setWebGpuKernels(true);
    // Step 1 gets an inf in its gradient (what an f16 tile that overflowed gives), step 2 a NaN.
    const { norms, states } = await run(3, {}, { 1: Infinity, 2: NaN });
    expect(Number.isFinite(norms[0])).toBe(true);
    expect(Number.isFinite(norms[1])).toBe(false);
    expect(Number.isFinite(norms[2])).toBe(false);
    for (const k of ['params', 'moments', 'shadow'] as const) {
      expect(states[1]![k]).not.toEqual(states[0]![k]); // the finite step updated them
      expect(states[2]![k], k).toEqual(states[1]![k]);
      expect(states[3]![k], k).toEqual(states[1]![k]);
    }
    expect(states.map((s) => s.scaler)).toEqual([
      [2 ** 15, 0, 0, 0],
      [2 ** 15, 1, 0, 0],
      [2 ** 14, 0, 1, 1],
      [2 ** 13, 0, 2, 1],
    ]);
    await selectBackend({ prefer: 'cpu', fallback: false });
  }, 120_000);
});

// (The training run in mixed-f16 is in training.test.ts, after its fp32 run has compiled the model's other pipelines.)
const SMALL = presetConfig('tiny', { channels: 1, resolution: 8, channelMults: [1], dropout: 0 });
