import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../backend.ts';
import { inceptionScore } from '../inception-score.ts';
import { loadInceptionExtractor } from './inception.ts';
import { offlineExtractor } from './offline.ts';
import { tinyGraphModel } from './tiny-graph-model.ts';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

/** Reads a converted graph model from a folder, as tf.io.http would from a server. */
function folderHandler(dir: string): tf.io.IOHandler {
  return {
    async load() {
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      const bytes = readFileSync(join(dir, json.weightsManifest[0]!.paths[0]!));
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      };
    },
  };
}

describe('InceptionV3 graph-model loader (tested with a tiny graph model of the same layout)', () => {
  it('resizes to the input size, runs once for pool and logits, and returns features and softmax probabilities', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-model-'));
    const { modelJson, weights } = tinyGraphModel(
      [
        [1, 0, 0, 2],
        [0, 1, 0, 0],
        [0, 0, 1, -1],
      ],
      32,
    );
    writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
    writeFileSync(join(dir, 'group1-shard1of1.bin'), weights);
    const extractor = await loadInceptionExtractor(folderHandler(dir), { inputSize: 32, batchSize: 2, label: 'tiny' });
    expect([extractor.dims, extractor.numClasses, extractor.paperComparable]).toEqual([3, 4, false]);
    expect(extractor.name).toBe('tiny(pool=pool_3,logits=logits,32px,bilinear)');
    // Three flat-colour 8×8 images (one grey: tiled to RGB); resizing keeps a flat colour.
    const colours = [
      [0.5, -0.5, 0],
      [1, 1, -1],
    ];
    const rgb = tf.concat(
      colours.map((c) => tf.mul(tf.ones([1, 8, 8, 3]), tf.tensor1d(c))),
      0,
    ) as tf.Tensor4D;
    const { features, probabilities } = await extractor.extract(rgb);
    expect(Array.from(features).map((v) => +v.toFixed(4))).toEqual([0.5, -0.5, 0, 1, 1, -1]);
    const logits0 = [0.5, -0.5, 0, 1];
    const e = logits0.map(Math.exp);
    const sum = e.reduce((a, b) => a + b);
    expect(Array.from(probabilities.subarray(0, 4)).map((v) => +v.toFixed(4))).toEqual(
      e.map((v) => +(v / sum).toFixed(4)),
    );
    const grey = tf.fill([1, 8, 8, 1], 0.25) as tf.Tensor4D;
    expect(Array.from((await extractor.extract(grey)).features).map((v) => +v.toFixed(4))).toEqual([0.25, 0.25, 0.25]);
    tf.dispose([rgb, grey]);
    extractor.dispose();
  });

  it('names the missing outputs when the node names are wrong', async () => {
    const { modelJson, weights } = tinyGraphModel([[1], [1], [1]], 16);
    const handler: tf.io.IOHandler = {
      load: async () => ({
        modelTopology: modelJson.modelTopology,
        format: 'graph-model',
        weightSpecs: modelJson.weightsManifest[0]!.weights,
        weightData: weights.slice().buffer,
      }),
    };
    await expect(loadInceptionExtractor(handler, { inputSize: 16, poolOutput: 'mixed_10/pool' })).rejects.toThrow(
      /no outputs 'mixed_10\/pool' and 'logits'/,
    );
  });
});

describe('offline extractor', () => {
  it('is deterministic, names itself as not paper-comparable, and gives probability rows for IS', async () => {
    const a = offlineExtractor({ dims: 16, width: 8 });
    const b = offlineExtractor({ dims: 16, width: 8 });
    expect(a.name).toBe('offline:random-conv-v1(seed=0,dims=16,width=8)+random-softmax-is-v1(classes=10,t=1)');
    expect(a.paperComparable).toBe(false);
    const images = tf.randomUniform([12, 8, 8, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    const ra = await a.extract(images);
    const rb = await b.extract(images);
    expect(Array.from(ra.features)).toEqual(Array.from(rb.features));
    expect(ra.probabilities.length).toBe(12 * 10);
    for (let i = 0; i < 12; i++)
      expect(ra.probabilities.subarray(i * 10, i * 10 + 10).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    const is = inceptionScore(ra.probabilities, 10, { splits: 2 });
    expect(is.mean).toBeGreaterThan(1);
    images.dispose();
    a.dispose();
    b.dispose();
  });
});
