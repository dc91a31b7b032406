import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUNet, Rng, selectBackend, type JsonValue } from '@dapple/models';
import { microUNetConfig, perturbWeights, publishedFiles } from '@dapple/models/testing';
import { DiskStore } from '@dapple/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SamplingPool, splitEvenly } from './pool.ts';
import type { ModelRef, TaskRequest } from './protocol.ts';

/**
 * A sample task split over the pool's worker threads (real threads, a real DiskStore): the same seed gives
 * the same images whatever the pool size, because each image's noise stream depends on its index only.
 */
const unet = microUNetConfig({ attentionResolutions: [] });

let dir: string;
let store: DiskStore;
let model: ModelRef;
const pools: SamplingPool[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dapple-pool-'));
  store = new DiskStore({ root: dir, publicBaseUrl: 'http://127.0.0.1:1', signingSecret: 's'.repeat(32) });
  await selectBackend({ prefer: 'cpu' });
  const net = createUNet(unet, 3);
  perturbWeights(net.variables, new Rng(5));
  const config = { unet, schedule: { kind: 'cosine', T: 50 }, predictionType: 'eps' };
  const { modelJson, weights } = await publishedFiles({
    weights: net.variables,
    config: config as unknown as JsonValue,
    step: 1,
  });
  net.dispose();
  await store.put('m/weights.bin', weights, { size: weights.length });
  await store.put('m/model.json', modelJson, { size: modelJson.length });
  model = {
    id: 'm1',
    modelJsonKey: 'm/model.json',
    weightsKeys: { 'weights.bin': 'm/weights.bin' },
    spec: { unet, schedule: { kind: 'cosine', T: 50 }, prediction: 'eps', labelNames: [] },
  };
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await rm(dir, { recursive: true, force: true });
});

function pool(size: number): SamplingPool {
  const p = new SamplingPool({ size, store, maxModels: 2, maxParamBytes: 64 * 1024 * 1024, backend: 'wasm' });
  pools.push(p);
  return p;
}

const bytes = (pngs: Uint8Array[]) => pngs.map((p) => Buffer.from(p).toString('base64'));

describe('a sample task over several workers', () => {
  it('splits the images over the idle workers; the same seed gives the same PNGs at pool size 1 and 3', async () => {
    const one = pool(1);
    const three = pool(3);
    await Promise.all([one.ready(), three.ready()]);
    for (const request of [
      { count: 5, steps: 4, sampler: 'ddim', eta: 0, seed: 42, batchSize: 2 },
      // DDPM draws fresh noise every step: each image's own stream keeps it the same too.
      { count: 4, steps: 3, sampler: 'ddpm', seed: 7 },
    ] satisfies TaskRequest[]) {
      const progress: [number, number][] = [];
      const a = await one.run(model, request);
      const b = await three.run(model, request, (done, total) => progress.push([done, total]));
      expect(a.workers).toBe(1);
      expect(b.workers).toBe(3);
      expect(a.pngs).toHaveLength(request.count);
      expect(bytes(b.pngs)).toEqual(bytes(a.pngs));
      expect(new Set(bytes(a.pngs)).size).toBe(request.count); // distinct images
      expect(progress.at(-1)![0]).toBe(progress.at(-1)![1]); // progress adds up over the shares
    }
    const other = await three.run(model, { count: 5, steps: 4, sampler: 'ddim', eta: 0, seed: 43 });
    expect(bytes(other.pngs)[0]).not.toBe(
      bytes((await one.run(model, { count: 1, steps: 4, sampler: 'ddim', eta: 0, seed: 42 })).pngs)[0],
    );
  }, 180_000);

  it('a task that arrives while workers are lent to another waits for one instead of being refused', async () => {
    const two = pool(2);
    await two.ready();
    const big = two.run(model, { count: 6, steps: 3, sampler: 'ddim', eta: 0, seed: 1 });
    await new Promise((r) => setImmediate(r));
    expect(two.idle).toBe(0); // both workers on the big task
    // Before splitting, this was refused ("no idle sampling worker"): the scheduler counts one worker per task.
    const small = two.run(model, { count: 1, steps: 3, sampler: 'ddim', eta: 0, seed: 2 });
    const [b, s] = await Promise.all([big, small]);
    expect(b.workers).toBe(2);
    expect(b.pngs).toHaveLength(6);
    expect(s.pngs).toHaveLength(1);
    expect(two.idle).toBe(2);
  }, 120_000);

  it('cuts images into contiguous, nearly equal shares', () => {
    expect(splitEvenly(5, 3)).toEqual([2, 2, 1]);
    expect(splitEvenly(64, 4)).toEqual([16, 16, 16, 16]);
  });
});
