import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { fileSystemHandler } from './fs-handler.ts';
import { loadInferenceWeights, saveInferenceWeights } from './inference.ts';
import { memoryHandler } from './memory-handler.ts';
import type { Checkpoint } from './types.ts';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'dapple-ckpt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Float32 values including the awkward ones: -0, subnormals, ±Inf, NaN, extremes. */
function awkwardTensor(): tf.Tensor {
  const special = [0, -0, 1e-45, -1e-40, 3.4028234663852886e38, -Infinity, Infinity, Number.NaN, 1 / 3];
  const values = new Float32Array(24);
  values.set(special);
  values.set(new Rng(1).normalArray(15), special.length);
  return tf.tensor(values, [2, 3, 4]);
}

function makeCheckpoint(): Checkpoint {
  const rng = new Rng(77);
  rng.normalArray(3);
  return {
    variables: new Map<string, tf.Tensor>([
      ['down.0/conv/kernel', awkwardTensor()],
      ['out/bias', rng.normal([5])],
    ]),
    ema: new Map<string, tf.Tensor>([
      ['down.0/conv/kernel', rng.normal([2, 3, 4])],
      ['out/bias', rng.normal([5])],
    ]),
    optimizer: new Map<string, tf.Tensor>([
      ['adam/m/out/bias', rng.normal([5])],
      ['adam/iterations', tf.scalar(1234, 'int32')],
    ]),
    step: 1234,
    rngState: rng.getState(),
    config: { preset: 'tiny', channels: [8, 16], lr: 2e-4, nested: { ok: true } },
    extra: { epoch: 3, batchInEpoch: 17 },
  };
}

async function bits(t: tf.Tensor): Promise<Buffer> {
  const data = await t.data();
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

async function expectSameTensors(
  a: Map<string, tf.Tensor> | undefined,
  b: Map<string, tf.Tensor> | undefined,
): Promise<void> {
  expect([...(b ?? new Map()).keys()]).toEqual([...(a ?? new Map()).keys()]);
  for (const [name, t] of a ?? new Map<string, tf.Tensor>()) {
    const other = b!.get(name)!;
    expect(other.shape).toEqual(t.shape);
    expect(other.dtype).toBe(t.dtype);
    expect((await bits(other)).equals(await bits(t))).toBe(true);
  }
}

function disposeCheckpoint(c: Checkpoint): void {
  for (const m of [c.variables, c.ema, c.optimizer]) for (const t of m?.values() ?? []) t.dispose();
}

describe('checkpoint codec', { timeout: 60_000 }, () => {
  for (const [name, handler] of [
    ['memoryHandler', () => memoryHandler()],
    ['fileSystemHandler', () => fileSystemHandler(join(dir, 'roundtrip'))],
  ] as const) {
    it(`round-trips bit-exactly through ${name}`, async () => {
      const original = makeCheckpoint();
      const h = handler();
      await saveCheckpoint(h, original);
      const loaded = await loadCheckpoint(h);
      await expectSameTensors(original.variables, loaded.variables);
      await expectSameTensors(original.ema, loaded.ema);
      await expectSameTensors(original.optimizer, loaded.optimizer);
      expect(loaded.step).toBe(1234);
      expect(loaded.config).toEqual(original.config);
      expect(loaded.extra).toEqual(original.extra);
      expect(loaded.rngState).toEqual(original.rngState);
      expect(Array.from(Rng.fromState(loaded.rngState).normalArray(5))).toEqual(
        Array.from(Rng.fromState(original.rngState).normalArray(5)),
      );
      disposeCheckpoint(original);
      disposeCheckpoint(loaded);
    });
  }

  it('omits the optional groups when absent', async () => {
    const h = memoryHandler();
    const variables = new Map([['w', tf.ones([2])]]);
    await saveCheckpoint(h, { variables, step: 0, rngState: new Rng(0).getState(), config: null });
    const loaded = await loadCheckpoint(h);
    expect(loaded.ema).toBeUndefined();
    expect(loaded.optimizer).toBeUndefined();
    expect(loaded.extra).toBeUndefined();
    expect([...loaded.variables.keys()]).toEqual(['w']);
    variables.get('w')!.dispose();
    loaded.variables.get('w')!.dispose();
  });

  it('writes standard model.json + weights.bin atomically, leaving no temporary files', async () => {
    const target = join(dir, 'layout');
    const c = makeCheckpoint();
    await saveCheckpoint(fileSystemHandler(target), c);
    await saveCheckpoint(fileSystemHandler(target), { ...c, step: 1235 }); // overwrite in place
    expect((await readdir(target)).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(await readFile(join(target, 'model.json'), 'utf8'));
    expect(json.format).toBe('dapple-checkpoint');
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toContain('optim/adam/iterations');
    expect(json.userDefinedMetadata.dapple.step).toBe(1235);
    const loaded = await loadCheckpoint(fileSystemHandler(target));
    expect(loaded.step).toBe(1235);
    disposeCheckpoint(c);
    disposeCheckpoint(loaded);
  });

  it('reports truncated, corrupted and missing files clearly, without leaking tensors', async () => {
    const target = join(dir, 'damaged');
    const c = makeCheckpoint();
    await saveCheckpoint(fileSystemHandler(target), c);
    disposeCheckpoint(c);
    const weightsPath = join(target, 'weights.bin');
    const good = await readFile(weightsPath);
    const before = tf.memory().numTensors;

    await writeFile(weightsPath, good.subarray(0, good.length - 7));
    await expect(loadCheckpoint(fileSystemHandler(target))).rejects.toThrow(
      /truncated: \d+ bytes present, the manifest needs \d+/,
    );

    const flipped = Buffer.from(good);
    flipped[10] = flipped[10]! ^ 0x01;
    await writeFile(weightsPath, flipped);
    await expect(loadCheckpoint(fileSystemHandler(target))).rejects.toThrow(/corrupted: CRC-32/);

    await rm(weightsPath);
    await expect(loadCheckpoint(fileSystemHandler(target))).rejects.toThrow(
      /weights file .*weights.bin listed in model.json is missing/,
    );
    await expect(loadCheckpoint(fileSystemHandler(join(dir, 'nothing-here')))).rejects.toThrow(/model.json not found/);

    await writeFile(join(target, 'model.json'), '{"weightsManifest": [');
    await expect(loadCheckpoint(fileSystemHandler(target))).rejects.toThrow(/not valid JSON/);
    await writeFile(
      join(target, 'model.json'),
      JSON.stringify({ weightsManifest: [{ paths: ['../escape.bin'], weights: [] }] }),
    );
    await expect(loadCheckpoint(fileSystemHandler(target))).rejects.toThrow(/only plain file names/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses to read inference weights as a checkpoint and vice versa', async () => {
    const h = memoryHandler();
    const weights = new Map([['w', tf.ones([3])]]);
    await saveInferenceWeights(h, { weights, config: { a: 1 } });
    await expect(loadCheckpoint(h)).rejects.toThrow(
      /not a Dapple checkpoint: expected format 'dapple-checkpoint', found 'dapple-inference'/,
    );
    await saveCheckpoint(h, { variables: weights, step: 1, rngState: new Rng(1).getState(), config: null });
    await expect(loadInferenceWeights(h)).rejects.toThrow(/not a Dapple inference weights/);
    weights.get('w')!.dispose();
  });
});

describe('inference weights', { timeout: 60_000 }, () => {
  it('round-trip exactly in float32 and within half precision in float16 at half the size', async () => {
    const weights = new Map<string, tf.Tensor>([
      ['a', new Rng(5).normal([64])],
      ['b', tf.tensor([0.1, -2, 65504, 1e-3], [2, 2])],
    ]);
    const full = memoryHandler();
    const half = memoryHandler();
    await saveInferenceWeights(full, { weights, config: { preset: 'tiny' }, step: 9 });
    await saveInferenceWeights(half, { weights, config: { preset: 'tiny' } }, { precision: 'float16' });
    const fullBytes = (full.artifacts!.weightData as ArrayBuffer).byteLength;
    const halfBytes = (half.artifacts!.weightData as ArrayBuffer).byteLength;
    expect(halfBytes * 2).toBe(fullBytes);

    const exact = await loadInferenceWeights(full);
    expect(exact.step).toBe(9);
    expect(exact.config).toEqual({ preset: 'tiny' });
    await expectSameTensors(weights, exact.weights);

    const approx = await loadInferenceWeights(half);
    expect(approx.step).toBeUndefined();
    for (const [name, t] of weights) {
      const got = await approx.weights.get(name)!.data();
      const want = await t.data();
      for (let i = 0; i < want.length; i++)
        expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(Math.abs(want[i]!) * 2 ** -11 + 1e-7);
    }
    for (const m of [weights, exact.weights, approx.weights]) for (const t of m.values()) t.dispose();
  });

  it('load over HTTP with tf.io.http from the files fileSystemHandler wrote (the browser path)', async () => {
    const target = join(dir, 'published');
    const weights = new Map<string, tf.Tensor>([['w', new Rng(8).normal([4, 4])]]);
    await saveInferenceWeights(fileSystemHandler(target), { weights, config: { preset: 'tiny' } });
    const serve = async (req: IncomingMessage, res: ServerResponse) => {
      try {
        const body = await readFile(join(target, (req.url ?? '/').slice(1)));
        res.writeHead(200).end(body);
      } catch {
        res.writeHead(404).end();
      }
    };
    const server = createServer((req, res) => void serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const loaded = await loadInferenceWeights(
        tf.io.http(`http://127.0.0.1:${port}/model.json`, { fetchFunc: fetch }),
      );
      expect(loaded.config).toEqual({ preset: 'tiny' });
      await expectSameTensors(weights, loaded.weights);
      loaded.weights.get('w')!.dispose();
    } finally {
      server.close();
      weights.get('w')!.dispose();
    }
  });
});
