import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng.ts';
import { kernelInceptionDistance } from './kid.ts';
import { collectFeatures, randomConvFeatures } from './random-conv.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** n 16×16 RGB images of one coloured disk (random centre, radius, colour) on a dark background. */
function disks(rng: Rng, n: number): tf.Tensor4D {
  const size = 16;
  const data = new Float32Array(n * size * size * 3).fill(-0.9);
  for (let i = 0; i < n; i++) {
    const [cx, cy, r01, red, green, blue] = rng.uniformArray(6);
    const radius = 2 + r01! * 4;
    const colour = [red!, green!, blue!].map((c) => c * 1.6 - 0.6);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        if ((x - (4 + cx! * 8)) ** 2 + (y - (4 + cy! * 8)) ** 2 <= radius * radius) {
          for (let c = 0; c < 3; c++) data[((i * size + y) * size + x) * 3 + c] = colour[c]!;
        }
      }
    }
  }
  return tf.tensor4d(data, [n, size, size, 3]);
}

describe('randomConvFeatures', { timeout: 60_000 }, () => {
  it('is a fixed, seeded extractor whose name encodes its configuration', async () => {
    const images = disks(new Rng(1), 5);
    const a = randomConvFeatures({ seed: 3, dims: 16 });
    const b = randomConvFeatures({ seed: 3, dims: 16, batchSize: 2 });
    const c = randomConvFeatures({ seed: 4, dims: 16 });
    expect(a.name).toBe('random-conv-v1(seed=3,dims=16,width=32)');
    expect(c.name).not.toBe(a.name);
    const fa = await a.extract(images);
    const fb = await b.extract(images);
    expect(fa.length).toBe(5 * 16);
    for (let i = 0; i < fa.length; i++) expect(fb[i]).toBeCloseTo(fa[i]!, 5); // batching does not change features
    expect(Array.from(await a.extract(images))).toEqual(Array.from(fa));
    expect(Array.from(await c.extract(images))).not.toEqual(Array.from(fa));
    for (const e of [a, b, c]) e.dispose();
    images.dispose();
  });

  it('leaks no tensors and frees its weights on dispose', async () => {
    const images = disks(new Rng(2), 3);
    const before = tf.memory().numTensors;
    const extractor = randomConvFeatures();
    await extractor.extract(images);
    const withWeights = tf.memory().numTensors;
    await extractor.extract(images);
    expect(tf.memory().numTensors).toBe(withWeights);
    extractor.dispose();
    expect(tf.memory().numTensors).toBe(before);
    images.dispose();
  });

  it('tells disks from noise under KID, and disks from disks not', async () => {
    const extractor = randomConvFeatures({ seed: 0, dims: 32 });
    const rng = new Rng(5);
    const real = disks(rng, 64);
    const moreReal = disks(rng, 64);
    const noise = tf.clipByValue(rng.normal([64, 16, 16, 3]), -1, 1) as tf.Tensor4D;
    const { features: fReal } = await collectFeatures(extractor, [real]);
    const { features: fMore, count } = await collectFeatures(extractor, [moreReal.slice(0, 32), moreReal.slice(32)]);
    expect(count).toBe(64);
    const fNoise = await extractor.extract(noise);
    const opts = { subsetSize: 50, numSubsets: 20 };
    const same = kernelInceptionDistance(fReal, fMore, 32, opts).mean;
    const different = kernelInceptionDistance(fReal, fNoise, 32, opts).mean;
    expect(different).toBeGreaterThan(10 * Math.max(Math.abs(same), 1e-3));
    extractor.dispose();
    tf.dispose([real, moreReal, noise]);
  });
});
