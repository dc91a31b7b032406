import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint/checkpoint.ts';
import { loadInferenceWeights, saveInferenceWeights } from '../checkpoint/inference.ts';
import { memoryHandler } from '../checkpoint/memory-handler.ts';
import { modelFromWeights } from '../model-from-weights.ts';
import { createUNet } from '../diffusion/unet.ts';
import { microUNetConfig } from '../testing/micro-unet.ts';
import { Rng } from '../rng.ts';
import {
  glowCheckpoint,
  glowFromCheckpoint,
  glowFromInferenceWeights,
  glowInferenceWeights,
  glowTrainerState,
} from './checkpoint.ts';
import { microGlowConfig } from '../testing/micro-glow.ts';
import { dequantize } from './data.ts';
import { createGlow, type Glow } from './model.ts';
import { createGlowTrainer, type GlowTrainer } from './train.ts';

const micro = microGlowConfig({ numClasses: 2 });

const batch = (seed: number) => ({
  images: tf.tidy(() => tf.clipByValue(tf.mul(new Rng(seed).normal([4, 8, 8, 3]), 0.5), -1, 1) as tf.Tensor4D),
  labels: tf.tensor1d([0, 1, 1, 0], 'int32'),
});

function makeTrainer(model: Glow, seed: number): GlowTrainer {
  return createGlowTrainer({
    model,
    optimizer: { kind: 'adam' },
    lr: { base: 1e-3, warmupSteps: 2 },
    clipNorm: 10,
    ema: { maxDecay: 0.9 },
    rng: new Rng(seed),
  });
}

async function weightsOf(model: Glow): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [k, v] of model.variables) out.set(k, Array.from(await v.data()));
  return out;
}

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

// Real wasm training steps: about 4 s on a loaded 2-core machine, near vitest's 5 s default.
describe('Glow checkpoints', { timeout: 30_000 }, () => {
  it('record architecture glow; a resumed trainer continues bit-for-bit like the uninterrupted one', async () => {
    const model = createGlow(micro, 1);
    const trainer = makeTrainer(model, 2);
    for (let s = 0; s < 2; s++) {
      const b = batch(s);
      await trainer.step(b);
      tf.dispose([b.images, b.labels]);
    }
    const handler = memoryHandler();
    await saveCheckpoint(handler, glowCheckpoint({ model, trainer, config: { run: { lr: 1e-3 } } }));
    expect((handler.artifacts!.userDefinedMetadata as { dapple: Record<string, unknown> }).dapple['architecture']).toBe(
      'glow',
    );

    const ckpt = await loadCheckpoint(handler);
    expect(ckpt.architecture).toBe('glow');
    expect(ckpt.config).toMatchObject({ run: { lr: 1e-3 }, glow: micro });
    const loaded = modelFromWeights(ckpt);
    expect(loaded.architecture).toBe('glow');
    const resumedModel = glowFromCheckpoint(ckpt);
    expect(resumedModel.initialized).toBe(true);
    const resumed = makeTrainer(resumedModel, 99);
    resumed.setState(glowTrainerState(ckpt));

    const next = batch(7);
    const a = await trainer.step(next);
    const b = await resumed.step(next);
    expect(b).toEqual(a);
    expect(await weightsOf(resumedModel)).toEqual(await weightsOf(model));
    for (const m of [ckpt.variables, ckpt.ema!, ckpt.optimizer!]) tf.dispose([...m.values()]);
    tf.dispose([next.images, next.labels]);
    loaded.model.dispose();
    for (const t of [trainer, resumed]) t.dispose();
    for (const m of [model, resumedModel]) m.dispose();
  });

  it('published (EMA) weights rebuild a Glow with the same likelihoods, in float32 and float16', async () => {
    const model = createGlow(micro, 3);
    const trainer = makeTrainer(model, 4);
    const b = batch(1);
    for (let s = 0; s < 3; s++) await trainer.step(b);
    const emaModel = createGlow(micro, 3);
    trainer.ema!.copyTo(emaModel.variables);
    const y = dequantize(b.images, micro.nBits, 'center');
    const want = Array.from(emaModel.bitsPerDim(y, b.labels).dataSync());

    for (const precision of ['float32', 'float16'] as const) {
      const handler = memoryHandler();
      await saveInferenceWeights(handler, glowInferenceWeights(model, { trainer }), { precision });
      const weights = await loadInferenceWeights(handler);
      expect(weights.architecture).toBe('glow');
      expect(weights.step).toBe(3);
      const rebuilt = glowFromInferenceWeights(weights);
      const got = Array.from(rebuilt.bitsPerDim(y, b.labels).dataSync());
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, precision === 'float32' ? 5 : 2));
      tf.dispose([...weights.weights.values()]);
      rebuilt.dispose();
    }
    tf.dispose([y, b.images, b.labels]);
    trainer.dispose();
    model.dispose();
    emaModel.dispose();
  });

  it('DDPM checkpoints are written as before (no architecture field) and still load as DDPM UNets', async () => {
    const unet = microUNetConfig({ attentionResolutions: [] });
    const net = createUNet(unet, 5);
    const handler = memoryHandler();
    await saveCheckpoint(handler, {
      variables: net.variables,
      step: 3,
      rngState: new Rng(1).getState(),
      config: { unet: unet as never, run: { lr: 2e-4 } },
    });
    const meta = (handler.artifacts!.userDefinedMetadata as { dapple: Record<string, unknown> }).dapple;
    expect('architecture' in meta).toBe(false);
    const ckpt = await loadCheckpoint(handler);
    expect(ckpt.architecture).toBe('ddpm');
    const loaded = modelFromWeights(ckpt);
    if (loaded.architecture !== 'ddpm') throw new Error(`loaded a ${loaded.architecture}`);
    expect(loaded.model.paramCount()).toBe(net.paramCount());
    const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    const t = tf.tensor1d([10], 'int32');
    expect(Array.from(loaded.model.apply(x, t).dataSync())).toEqual(Array.from(net.apply(x, t).dataSync()));
    expect(() => glowFromCheckpoint(ckpt)).toThrow(/holds a ddpm model, not a Glow/);

    // Published DDPM weights too.
    const inf = memoryHandler();
    await saveInferenceWeights(inf, { weights: net.variables, config: { unet: unet as never } });
    const weights = await loadInferenceWeights(inf);
    expect(weights.architecture).toBe('ddpm');
    const fromPublished = modelFromWeights(weights);
    expect(fromPublished.architecture).toBe('ddpm');
    tf.dispose([x, t, ...ckpt.variables.values(), ...weights.weights.values()]);
    for (const m of [net, loaded.model, fromPublished.model]) m.dispose();
  });

  it('an unknown architecture is an error that names it; a Glow file missing a weight says so', async () => {
    const handler = memoryHandler();
    const w = new Map([['w', tf.ones([2])]]);
    await expect(
      saveCheckpoint(handler, {
        architecture: 'vae' as never,
        variables: w,
        step: 0,
        rngState: new Rng(0).getState(),
        config: null,
      }),
    ).rejects.toThrow(/architecture must be one of ddpm, glow, got "vae"/);
    await saveCheckpoint(handler, {
      architecture: 'glow',
      variables: w,
      step: 1,
      rngState: new Rng(0).getState(),
      config: null,
    });
    const meta = (handler.artifacts!.userDefinedMetadata as { dapple: Record<string, unknown> }).dapple;
    meta['architecture'] = 'vae';
    await expect(loadCheckpoint(handler)).rejects.toThrow(/checkpoint metadata architecture must be one of ddpm, glow/);
    meta['architecture'] = 'glow';
    const ckpt = await loadCheckpoint(handler);
    expect(() => glowFromCheckpoint(ckpt)).toThrow(/glow is missing/);
    const withConfig = { ...ckpt, config: { glow: micro as never } };
    expect(() => glowFromCheckpoint(withConfig)).toThrow(/lacks weight levels\.0\.steps\.0\.actnorm\.bias/);
    tf.dispose([...w.values(), ...ckpt.variables.values()]);
  });
});
