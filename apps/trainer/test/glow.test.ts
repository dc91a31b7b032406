import * as tf from '@tensorflow/tfjs';
import { modelFromWeights } from '@dapple/models';
import { sampleGrids } from '@dapple/db';
import { ok, START_RUN, tinyConfig, tinyGlowConfig, type SignedInUser, type TestHub } from '@dapple/server/testing';
import { and, eq } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubWithDataset, storedCheckpoint, trainAttempt } from './hub-run.ts';

const METRICS = `query ($id: ID!, $keys: [String!]!) {
  run(id: $id) { config { architecture preset model { resolution levels depth hiddenChannels } sampleTemperatures heldOutImages schedule }
    metrics(keys: $keys) { key points { step last } } } }`;

let hub: TestHub;
let ann: SignedInUser;
let datasetVersionId: string;

beforeAll(async () => {
  ({ hub, ann, datasetVersionId } = await hubWithDataset('trainer-glow', { images: await squares(64, 8) }));
});
afterAll(async () => {
  await hub?.close();
});

/** n distinct 8×8 grey images: a bright 3×3 square at every position, its brightness varying, on a dark ground. */
async function squares(n: number, side: number): Promise<{ path: string; bytes: Buffer }[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const pixels = Buffer.alloc(side * side, 16);
    const x0 = i % (side - 2);
    const y0 = Math.floor(i / (side - 2)) % (side - 2);
    const bright = 180 + ((i * 37) % 70);
    for (let y = y0; y < y0 + 3; y++) for (let x = x0; x < x0 + 3; x++) pixels[y * side + x] = bright;
    const bytes = await sharp(pixels, { raw: { width: side, height: side, channels: 1 } })
      .png()
      .toBuffer();
    out.push({ path: `img-${String(i).padStart(3, '0')}.png`, bytes });
  }
  return out;
}

type Series = { key: string; points: { step: number; last: number | null }[] };

describe('a Glow run against a real hub', () => {
  it('trains by maximum likelihood: held-out bits/dim falls, grids at T 0.7 and 1.0, Glow checkpoints that resume', async () => {
    const config = tinyGlowConfig({ steps: 60, heldOutEvery: 10, checkpointEvery: 30, sampleEvery: 60 });
    const id = ok(
      await ann.client.request<{ startRun: { id: string } }>(START_RUN, {
        input: { datasetVersionId, name: 'glow', seed: 3, config },
      }),
    ).startRun.id;

    const first = await trainAttempt(hub, id, { backend: 'wasm' });
    expect(first).toMatchObject({ outcome: 'succeeded', step: 60 });
    const log = first.log.join('\n');
    expect(log).toMatch(/model: Glow preset glow-tiny, \d+ parameters, 8×8×1, L 2 × K 2/);
    expect(log).toMatch(/held-out split: 8 of 64 images/);

    const res = ok(
      await ann.client.request<{
        run: { config: Record<string, unknown>; metrics: Series[] };
      }>(METRICS, { id, keys: ['held_out_bits_per_dim', 'bits_per_dim', 'grad_norm', 'images_per_sec'] }),
    );
    expect(res.run.config).toEqual({
      architecture: 'GLOW',
      preset: 'GLOW_TINY',
      model: { resolution: 8, levels: 2, depth: 2, hiddenChannels: 16 },
      sampleTemperatures: [0.7, 1.0],
      heldOutImages: 8,
      schedule: null,
    });
    const series = (key: string) => res.run.metrics.find((s) => s.key === key)?.points ?? [];
    const heldOut = series('held_out_bits_per_dim');
    // Step 0 is scored after the actnorms are fitted to the first batch: the baseline the curve falls from.
    expect(heldOut.map((p) => p.step)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    const at = (step: number) => heldOut.find((p) => p.step === step)!.last!;
    // 8-bit 8×8 grey images: a density uniform on the cube scores 8 bits/dim; the flow learns the blobs.
    console.info(`held-out bits/dim by step: ${heldOut.map((p) => `${p.step}: ${p.last!.toFixed(3)}`).join(', ')}`);
    expect(at(60)).toBeLessThan(at(10) - 0.5);
    expect(series('bits_per_dim').length).toBeGreaterThan(0);
    expect(series('grad_norm').every((p) => Number.isFinite(p.last))).toBe(true);

    // One grid block per temperature: 4 images each in 2×2, stacked → 2 columns × 4 rows of 8 px, 2 px padding.
    const [grid] = await hub.db
      .select()
      .from(sampleGrids)
      .where(and(eq(sampleGrids.runId, id), eq(sampleGrids.step, 60)));
    expect(grid).toMatchObject({ width: 2 * 8 + 3 * 2, height: 4 * 8 + 5 * 2 });
    const chunks: Buffer[] = [];
    for await (const c of await hub.store.get(grid!.objectKey)) chunks.push(Buffer.from(c as Uint8Array));
    expect(await sharp(Buffer.concat(chunks)).metadata()).toMatchObject({ width: 22, height: 42 });

    // The step-0 checkpoint holds the fitted actnorms (a fork or an evaluation of it starts from the model step 1
    // trained, not from zeros), and says so.
    const zero = await storedCheckpoint(hub, id, 0);
    try {
      expect(zero.config).toMatchObject({ actnormInitialized: true });
      const logs = await zero.variables.get('levels.0.steps.0.actnorm.logs')!.data();
      expect(Math.max(...Array.from(logs, Math.abs))).toBeGreaterThan(0.01);
    } finally {
      tf.dispose([...zero.variables.values(), ...(zero.ema?.values() ?? []), ...(zero.optimizer?.values() ?? [])]);
    }

    const ckpt = await storedCheckpoint(hub, id, 60);
    try {
      expect(ckpt.architecture).toBe('glow');
      expect(ckpt.config).toMatchObject({
        glow: { resolution: 8, channels: 1, levels: 2, depth: 2, hiddenChannels: 16 },
        heldOut: { images: 8 },
      });
      const loaded = modelFromWeights(ckpt, { ema: true });
      expect(loaded.architecture).toBe('glow');
      loaded.model.dispose();
    } finally {
      tf.dispose([...ckpt.variables.values(), ...(ckpt.ema?.values() ?? []), ...(ckpt.optimizer?.values() ?? [])]);
    }

    // A fork from step 30 resumes the Glow checkpoint (weights, Adam, EMA, RNG) and trains on to step 40.
    const fork = ok(
      await ann.client.request<{ forkRun: { id: string } }>(
        `mutation ($input: ForkRunInput!) { forkRun(input: $input) { id } }`,
        { input: { id, fromStep: 30, name: 'glow-fork', overrides: { steps: 40 } } },
      ),
    ).forkRun.id;
    const resumed = await trainAttempt(hub, fork, { backend: 'wasm' });
    expect(resumed).toMatchObject({ outcome: 'succeeded', step: 40 });
    expect(resumed.log.join('\n')).toMatch(/resumed from the checkpoint of step 30\n/);
    // A DDPM-only override is refused by name on a Glow run.
    const bad = await ann.client.request(`mutation ($input: ForkRunInput!) { forkRun(input: $input) { id } }`, {
      input: { id, fromStep: 30, overrides: { labelDropout: 0.2 } },
    });
    expect(bad.errors?.[0]?.message).toMatch(/labelDropout: is a DDPM setting/);
  });

  it('a DDPM run on the same version reports held-out bits/dim from its variational bound, on the same images', async () => {
    const config = tinyConfig({ steps: 60, lr: 2e-3, heldOutEvery: 20, heldOutImages: 8, sampleEvery: 60 });
    const id = ok(
      await ann.client.request<{ startRun: { id: string } }>(START_RUN, {
        input: { datasetVersionId, name: 'ddpm', seed: 3, config },
      }),
    ).startRun.id;
    const run = await trainAttempt(hub, id, { backend: 'wasm' });
    expect(run).toMatchObject({ outcome: 'succeeded', step: 60 });
    const log = run.log.join('\n');
    // The same split as the Glow run's (picked from the version's shard hashes, whatever the architecture).
    expect(log).toMatch(/held-out split: 8 of 64 images .* variational bound \(8 of 99 KL terms, stratified\)/);
    const res = ok(
      await ann.client.request<{ run: { metrics: Series[] } }>(METRICS, { id, keys: ['held_out_bits_per_dim'] }),
    );
    const heldOut = res.run.metrics.find((s) => s.key === 'held_out_bits_per_dim')?.points ?? [];
    expect(heldOut.map((p) => p.step)).toEqual([0, 20, 40, 60]);
    console.info(
      `DDPM held-out bits/dim by step: ${heldOut.map((p) => `${p.step}: ${p.last!.toFixed(3)}`).join(', ')}`,
    );
    const at = (step: number) => heldOut.find((p) => p.step === step)!.last!;
    expect(at(60)).toBeLessThan(at(0) - 0.5);
    const ckpt = await storedCheckpoint(hub, id, 60);
    try {
      expect(ckpt.config).toMatchObject({ heldOut: { images: 8 } });
    } finally {
      tf.dispose([...ckpt.variables.values(), ...(ckpt.ema?.values() ?? []), ...(ckpt.optimizer?.values() ?? [])]);
    }
  });
});
