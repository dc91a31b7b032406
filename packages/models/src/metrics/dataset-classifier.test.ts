import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { loadDatasetClassifier, sampleClassAccuracy, trainDatasetClassifier } from './dataset-classifier.ts';
import { inceptionScore } from './inception-score.ts';
import { noiseImages, syntheticDigits } from './synthetic-images.ts';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

/** An IOHandler keeping what was saved in memory (the hub's is its object store). */
function memoryHandler(): tf.io.IOHandler & { saved?: tf.io.ModelArtifacts } {
  const handler: tf.io.IOHandler & { saved?: tf.io.ModelArtifacts } = {
    async save(artifacts) {
      handler.saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    },
    async load() {
      if (!handler.saved) throw new Error('nothing saved');
      return handler.saved;
    },
  };
  return handler;
}

const bytes = (artifacts: tf.io.ModelArtifacts | undefined) =>
  Array.from(new Uint8Array(artifacts!.weightData as ArrayBuffer));

describe('dataset classifier', { timeout: 300_000 }, () => {
  const size = 24;
  const tensor = (pixels: Float32Array) => tf.tensor4d(pixels, [pixels.length / (size * size * 3), size, size, 3]);

  /**
   * 800 digits (10 classes) drawn here, 250 steps of 64 (seeded): measured on wasm held-out 0.956, fresh
   * digits 0.930, noise 0.087 (chance 0.10); IS 5.99 on fresh digits and 1.20 on noise. Thresholds leave
   * margins of 1.5× or more in error rate / IS.
   */
  it('learns the dataset: high held-out accuracy and IS on real images, chance and IS ≈ 1 on noise', async () => {
    const train = syntheticDigits(800, size, 1);
    const images = tensor(train.pixels);
    const { model, heldOutAccuracy } = await trainDatasetClassifier(images, train.labels, { steps: 250, seed: 0 });
    images.dispose();
    expect(model.heldOutAccuracy).toBe(heldOutAccuracy);
    expect(model.name).toBe('dataset-classifier-v1(24px,c=3,k=10,seed=0,steps=250,n=640)');

    const fresh = syntheticDigits(300, size, 7);
    const freshImages = tensor(fresh.pixels);
    const realProbs = await model.probabilities(freshImages);
    freshImages.dispose();
    const real = sampleClassAccuracy(realProbs, fresh.labels, 10);
    const noise = tensor(noiseImages(300, size, 3));
    const noiseProbs = await model.probabilities(noise);
    noise.dispose();
    // Noise "generated for" the same balanced labels: a model that ignores its label.
    const onNoise = sampleClassAccuracy(noiseProbs, fresh.labels, 10);
    const isReal = inceptionScore(realProbs, 10, { splits: 5 });
    const isNoise = inceptionScore(noiseProbs, 10, { splits: 5 });
    console.log(
      `held-out ${heldOutAccuracy.toFixed(3)}, fresh ${real.accuracy.toFixed(3)}, noise ${onNoise.accuracy.toFixed(3)}; IS fresh ${isReal.mean.toFixed(2)}, noise ${isNoise.mean.toFixed(2)}`,
    );
    expect(heldOutAccuracy).toBeGreaterThan(0.85);
    expect(real.accuracy).toBeGreaterThan(0.85);
    expect(Math.min(...real.perClass.map((c) => c.accuracy))).toBeGreaterThan(0.5);
    expect(onNoise.chance).toBe(0.1);
    expect(onNoise.accuracy).toBeLessThan(0.2);
    expect(isReal.mean).toBeGreaterThan(4);
    expect(isNoise.mean).toBeLessThan(2);

    // Saved and loaded through an IOHandler, it gives the same probabilities.
    const handler = memoryHandler();
    await model.save(handler);
    const loaded = await loadDatasetClassifier(handler);
    expect([loaded.name, loaded.heldOutAccuracy, loaded.inputSize]).toEqual([model.name, heldOutAccuracy, 24]);
    const again = tensor(fresh.pixels.subarray(0, 20 * size * size * 3));
    expect(Array.from(await loaded.probabilities(again))).toEqual(Array.from(await model.probabilities(again)));
    again.dispose();
    model.dispose();
    loaded.dispose();
  });

  it('is deterministic for a seed, frees its training tensors, and resizes large images to 32 px', async () => {
    const set = syntheticDigits(60, 40, 2, 3);
    const images = tf.tensor4d(set.pixels, [60, 40, 40, 3]);
    const before = tf.memory().numTensors;
    const train = async (seed: number) => {
      const { model } = await trainDatasetClassifier(images, set.labels, { steps: 4, batchSize: 16, seed });
      const handler = memoryHandler();
      await model.save(handler);
      model.dispose();
      return handler.saved;
    };
    const [a, b, c] = [await train(5), await train(5), await train(6)];
    expect(tf.memory().numTensors).toBe(before);
    expect(bytes(b)).toEqual(bytes(a));
    expect(bytes(c)).not.toEqual(bytes(a));
    expect((a!.modelTopology as { inputSize: number }).inputSize).toBe(32);
    images.dispose();
  });

  it('rejects bad labels and a wrong channel count with the field named', async () => {
    const images = tf.zeros([10, 16, 16, 1]) as tf.Tensor4D;
    await expect(trainDatasetClassifier(images, [0, 1, 2])).rejects.toThrow(/labels: 3 labels for 10 images/);
    await expect(trainDatasetClassifier(images, [0, 1, 2, 0, 1, 2, 0, 1, 2, -1])).rejects.toThrow(
      /labels\[9\] must be an integer ≥ 0/,
    );
    const { model } = await trainDatasetClassifier(images, [0, 1, 0, 1, 0, 1, 0, 1, 0, 1], { steps: 1 });
    const rgb = tf.zeros([1, 16, 16, 3]) as tf.Tensor4D;
    await expect(model.probabilities(rgb)).rejects.toThrow(/images must be \[n, h, w, 1\]/);
    tf.dispose([images, rgb]);
    model.dispose();
  });
});

describe('sampleClassAccuracy', () => {
  it('counts per class and fills the confusion matrix', () => {
    // Three samples of class 0 (two seen as 0, one as 1), one of class 1 (seen as 1), none of class 2.
    const probs = [0.8, 0.1, 0.1, 0.6, 0.3, 0.1, 0.2, 0.7, 0.1, 0.1, 0.5, 0.4];
    const r = sampleClassAccuracy(probs, [0, 0, 0, 1], 3);
    expect(r.accuracy).toBe(0.75);
    expect(r.chance).toBeCloseTo(1 / 3, 12);
    expect(r.perClass.map((c) => [c.count, c.correct])).toEqual([
      [3, 2],
      [1, 1],
      [0, 0],
    ]);
    expect(r.perClass[2]!.accuracy).toBeNaN();
    expect(r.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
    expect(() => sampleClassAccuracy(probs, [0, 0, 0, 3], 3)).toThrow(
      /intendedLabels\[3\] must be an integer in \[0, 3\)/,
    );
  });
});
