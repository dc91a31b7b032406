import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../backend.ts';
import { Rng } from '../../rng.ts';
import { makeSchedule } from '../schedule.ts';
import { createUNet } from '../unet.ts';
import { microUNetConfig } from '../../testing/micro-unet.ts';
import { perturbWeights } from '../../testing/perturb-weights.ts';
import { ddimSample } from './ddim.ts';
import { ddpmSample } from './ddpm.ts';
import { imageGrid, toUint8Images } from './images.ts';
import type { Denoiser } from './types.ts';

const config = microUNetConfig({ numClasses: 3, learnSigma: true });

beforeAll(async () => {
  await selectBackend({ prefer: 'cpu' });
});

describe('samplers over the real UNet', () => {
  it('sample a class-conditional learned-variance model with guidance, deterministically, leaking nothing', async () => {
    const model = createUNet(config, 7);
    perturbWeights(model.variables, new Rng(9));
    const denoiser: Denoiser = (x, t, labels) => model.apply(x, t, labels);
    const schedule = makeSchedule({ kind: 'cosine', T: 50 });
    const labels = tf.tensor1d([0, 1, 2, 1], 'int32');
    const before = tf.memory().numTensors;
    const common = {
      denoiser,
      schedule,
      prediction: 'eps' as const,
      shape: [4, 8, 8, 3] as [number, number, number, number],
      labels,
      nullLabel: 3,
      guidanceScale: 2.5,
    };
    const a = await ddpmSample({ ...common, variance: 'learned', seed: 1, steps: 6 });
    const b = await ddpmSample({ ...common, variance: 'learned', seed: 1, steps: 6 });
    const c = await ddimSample({ ...common, seed: 1, steps: 6 });
    expect(a.shape).toEqual([4, 8, 8, 3]);
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    expect(Array.from(await c.data())).not.toEqual(Array.from(await a.data()));
    const pixels = await toUint8Images(a);
    const grid = imageGrid(pixels, [4, 8, 8, 3], { cols: 2, padding: 1 });
    expect([grid.width, grid.height]).toEqual([19, 19]);
    tf.dispose([a, b, c]);
    expect(tf.memory().numTensors).toBe(before);
    labels.dispose();
    model.dispose();
  }, 120_000);
});
