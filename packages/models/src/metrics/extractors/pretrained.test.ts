import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../backend.ts';
import { kernelInceptionDistance, type KidResult } from '../kid.ts';
import {
  flipUpsideDown,
  meanImage,
  noiseImages,
  syntheticIcons,
  withPixelNoise,
  type SyntheticImages,
} from '../synthetic-images.ts';
import { loadPretrainedExtractor, pretrainedExtractorName } from './mobilenet-v2.ts';
import { nsfwjsMobileNetV2Handler } from './nsfwjs-files.ts';
import { loadKerasFeatureExtractor } from './pretrained.ts';
import type { EvaluationExtractor } from './types.ts';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

async function features(extractor: EvaluationExtractor, pixels: Float32Array, size: number): Promise<Float32Array> {
  const images = tf.tensor4d(pixels, [pixels.length / (size * size * 3), size, size, 3]);
  const { features } = await extractor.extract(images);
  images.dispose();
  return features;
}

describe('pretrained extractor (MobileNetV2 weights from the nsfwjs npm package)', { timeout: 300_000 }, () => {
  it('loads from node_modules, names its weights and configuration, is deterministic and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const extractor = await loadPretrainedExtractor();
    expect(extractor.name).toBe('pretrained:mobilenet-v2(nsfwjs@4.4.0)/gap(out_relu)(dims=1280,128px,bilinear)');
    expect(pretrainedExtractorName()).toBe(extractor.name);
    expect(pretrainedExtractorName({ inputSize: 224 })).toContain('224px');
    expect([extractor.dims, extractor.numClasses, extractor.paperComparable]).toEqual([1280, 0, false]);
    const icons = syntheticIcons(6, 16, 1);
    const a = await features(extractor, icons.pixels, 16);
    const withWeights = tf.memory().numTensors;
    const b = await features(extractor, icons.pixels, 16);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(tf.memory().numTensors).toBe(withWeights);
    // ReLU6 features, not all zero, different per image.
    expect(a.every((v) => v >= 0 && v <= 6)).toBe(true);
    expect(a.subarray(0, 1280).some((v, i) => v !== a[1280 + i])).toBe(true);
    // Grey images are tiled to RGB: a grey image and its three-channel copy give the same features.
    const grey = tf.randomUniform([2, 16, 16, 1], -1, 1, 'float32', 7) as tf.Tensor4D;
    const rgb = tf.tile(grey, [1, 1, 1, 3]) as tf.Tensor4D;
    const [fg, fc] = [(await extractor.extract(grey)).features, (await extractor.extract(rgb)).features];
    for (let i = 0; i < fg.length; i += 97) expect(fg[i]).toBeCloseTo(fc[i]!, 5);
    tf.dispose([grey, rgb]);
    extractor.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names a missing layer and a grid too fine for the layer', async () => {
    await expect(
      loadKerasFeatureExtractor(nsfwjsMobileNetV2Handler(), {
        featureLayers: [{ layer: 'pool_3', grid: [1, 1] }],
        inputSize: 64,
        inputRange: '[0,1]',
        name: 'x',
      }),
    ).rejects.toThrow(/no layer 'pool_3'/);
    await expect(
      loadKerasFeatureExtractor(nsfwjsMobileNetV2Handler(), {
        featureLayers: [{ layer: 'out_relu', grid: [3, 3] }],
        inputSize: 64,
        inputRange: '[0,1]',
        name: 'x',
      }),
    ).rejects.toThrow(/'out_relu' is 2×2 at 64 px: too small for a 3×3 grid/);
  });

  /**
   * The ranking an evaluation must get right, on 24 px colour icons drawn here (seeded, so every number
   * is the same on every run of one backend; measured on wasm: real −0.0002 ± 0.0007, upside down
   * 0.0045 ± 0.0019, noised 0.0434, mean image 0.2531, noise 0.3488, see docs/evaluation.md). Each
   * threshold has a margin of about 2× or more against those numbers, except "noise is worst" (1.4×).
   */
  it('ranks real ≈ real, upside down > 0, mean image ≫ slightly noised, untrained noise worst', async () => {
    const n = 200;
    const size = 24;
    const extractor = await loadPretrainedExtractor();
    const real = syntheticIcons(n, size, 1);
    const kid = async (other: Float32Array | SyntheticImages): Promise<KidResult> => {
      const pixels = other instanceof Float32Array ? other : other.pixels;
      return kernelInceptionDistance(fReal, await features(extractor, pixels, size), extractor.dims, { seed: 1 });
    };
    const fReal = await features(extractor, real.pixels, size);
    const sameDistribution = await kid(syntheticIcons(n, size, 2));
    const upsideDown = await kid(flipUpsideDown(syntheticIcons(n, size, 3)));
    const noised = await kid(withPixelNoise(syntheticIcons(n, size, 4), 0.1, 5));
    // n copies of one image have n copies of its features: extract it once.
    const fMean = await features(extractor, meanImage(real), size);
    const meanCopies = kernelInceptionDistance(
      fReal,
      Float32Array.from({ length: n * extractor.dims }, (_, i) => fMean[i % extractor.dims]!),
      extractor.dims,
      { seed: 1 },
    );
    const untrained = await kid(noiseImages(n, size, 6));
    extractor.dispose();
    const show = (k: KidResult) => `${k.mean.toFixed(4)} ± ${k.std.toFixed(4)}`;
    console.log(
      `KID vs real (n=${n}): real ${show(sameDistribution)}, upside down ${show(upsideDown)}, noised ${show(noised)}, mean image ${show(meanCopies)}, noise ${show(untrained)}`,
    );
    for (const k of [sameDistribution, upsideDown, noised, meanCopies, untrained]) {
      expect(k.subsetSize).toBe(n / 2);
      expect(k.subsetsDiffer).toBe(true);
      expect(k.std).toBeGreaterThan(1e-6); // subsets of n/2 really differ
    }
    // Another sample of the same distribution: within the spread of KID between two real samples.
    expect(Math.abs(sameDistribution.mean)).toBeLessThan(sameDistribution.std);
    // Upside down: well outside that spread (the pretrained features know which way up things are).
    expect(upsideDown.mean).toBeGreaterThan(3 * sameDistribution.std);
    expect(upsideDown.mean).toBeGreaterThan(10 * Math.abs(sameDistribution.mean));
    // A collapsed model (every sample the data mean) is far worse than slightly noisy samples…
    expect(meanCopies.mean).toBeGreaterThan(2.5 * noised.mean);
    expect(noised.mean).toBeGreaterThan(10 * sameDistribution.std);
    // …and an untrained model's noise is the worst of all.
    expect(untrained.mean).toBeGreaterThan(meanCopies.mean);
  });
});
