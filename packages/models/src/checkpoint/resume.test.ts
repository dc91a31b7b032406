import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { Rng } from '../rng.ts';
import { makeSchedule } from '../diffusion/schedule.ts';
import { createTrainer, type StepMetrics } from '../diffusion/train.ts';
import { createUNet } from '../diffusion/unet.ts';
import { microUNetConfig } from '../testing/micro-unet.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { fileSystemHandler } from './fs-handler.ts';
import { loadInferenceWeights, saveInferenceWeights } from './inference.ts';

const config = microUNetConfig({ dropout: 0.1, numClasses: 3, learnSigma: true });

let dir: string;
beforeAll(async () => {
  await selectBackend({ prefer: 'cpu' });
  dir = await mkdtemp(join(tmpdir(), 'dapple-resume-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A trainer over a fresh model; `initSeed` differs between runs so resumed weights must come from disk. */
function build(initSeed: number) {
  const model = createUNet(config, initSeed);
  const trainer = createTrainer({
    model,
    schedule: makeSchedule({ kind: 'cosine', T: 100 }),
    prediction: 'v',
    loss: 'hybrid',
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    lr: { base: 1e-3, warmupSteps: 2, decay: 'cosine', totalSteps: 10 },
    clipNorm: 1,
    rng: new Rng(21),
  });
  return { model, trainer };
}

function batch(i: number) {
  const rng = new Rng(100 + i);
  return {
    images: tf.tidy(() => tf.sub(tf.mul(rng.uniform([2, 8, 8, 3]), 2), 1) as tf.Tensor4D),
    labels: rng.uniformInt(2, 3),
  };
}

async function run(trainer: ReturnType<typeof build>['trainer'], from: number, to: number): Promise<StepMetrics[]> {
  const out: StepMetrics[] = [];
  for (let i = from; i < to; i++) {
    const b = batch(i);
    out.push(await trainer.step(b));
    tf.dispose([b.images, b.labels]);
  }
  return out;
}

describe('resume from a checkpoint on disk (cpu backend)', () => {
  it('continues with the same losses, gradient norms and EMA weights as never stopping', async () => {
    const straight = build(1);
    const uninterrupted = await run(straight.trainer, 0, 5);

    const first = build(1);
    await run(first.trainer, 0, 3);
    const state = first.trainer.getState();
    const ckptDir = join(dir, 'step-3');
    await saveCheckpoint(fileSystemHandler(ckptDir), {
      variables: first.model.variables,
      ema: state.ema!,
      optimizer: state.optimizer,
      step: state.step,
      rngState: state.rngState,
      config: { unet: config as unknown as Record<string, never> },
    });
    first.trainer.dispose();
    first.model.dispose();

    const loaded = await loadCheckpoint(fileSystemHandler(ckptDir));
    expect(loaded.step).toBe(3);
    const second = build(2); // different initial weights: everything must come from the checkpoint
    for (const [name, v] of second.model.variables) v.assign(loaded.variables.get(name)!);
    second.trainer.setState({
      step: loaded.step,
      optimizer: loaded.optimizer!,
      ema: loaded.ema!,
      rngState: loaded.rngState,
    });
    tf.dispose([...loaded.variables.values(), ...loaded.optimizer!.values(), ...loaded.ema!.values()]);
    const resumed = await run(second.trainer, 3, 5);

    expect(resumed).toEqual(uninterrupted.slice(3));
    const emaStraight = straight.trainer.getState().ema!;
    const emaResumed = second.trainer.getState().ema!;
    for (const [name, t] of emaStraight) {
      expect(Array.from(await emaResumed.get(name)!.data())).toEqual(Array.from(await t.data()));
    }

    // The published form: EMA weights + config only, loaded back bit-exactly.
    const published = join(dir, 'published');
    const emaWeights = new Map([...emaResumed].filter(([name]) => second.model.variables.has(name)));
    await saveInferenceWeights(fileSystemHandler(published), {
      weights: emaWeights,
      config: { unet: config as unknown as Record<string, never> },
      step: 5,
    });
    const inference = await loadInferenceWeights(fileSystemHandler(published));
    expect([...inference.weights.keys()].sort()).toEqual([...second.model.variables.keys()].sort());
    for (const [name, t] of inference.weights) {
      expect(Array.from(await t.data())).toEqual(Array.from(await emaResumed.get(name)!.data()));
    }
    tf.dispose([...inference.weights.values()]);
    for (const r of [straight, second]) {
      r.trainer.dispose();
      r.model.dispose();
    }
  }, 300_000);
});
