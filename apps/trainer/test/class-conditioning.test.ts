import * as tf from '@tensorflow/tfjs';
import { createUNet } from '@dapple/models';
import { DdpmRunConfigSchema, unetConfigFor } from '@dapple/contracts/run-config';
import { sampleGrids } from '@dapple/db';
import {
  type TestHub,
  type SignedInUser,
  twoClassImages,
  ok,
  readyDatasetVersion,
  START_RUN,
  storedConfig,
  tinyConfig,
} from '@dapple/server/testing';
import { and, eq } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gridLayout } from '../src/sample-grid.ts';
import { hubWithDataset, storedCheckpoint, trainAttempt } from './hub-run.ts';

const SEED = 5;
const RUN = `query ($id: ID!) { run(id: $id) { config { conditioning numClasses labelDropout } } }`;
const PUBLISH = `mutation ($input: PublishModelInput!) { publishModel(input: $input) { version { labelNames configJson } } }`;

let hub: TestHub;
let ann: SignedInUser;
let teamId: string;
let datasetVersionId: string;

beforeAll(async () => {
  ({ hub, ann, teamId, datasetVersionId } = await hubWithDataset('trainer-classes', {
    images: await twoClassImages(16, 8),
  }));
});
afterAll(async () => {
  await hub?.close();
});

describe('class-conditional training on a 2-label dataset', () => {
  it('conditions on the labels by default, feeds them from the shards, stores their names and draws one grid row per class', async () => {
    // labelDropout 0: every image trains with its own label, so the null label's embedding must stay as initialised.
    const config = tinyConfig({
      steps: 6,
      batchSize: 8,
      checkpointEvery: 6,
      sampleEvery: 6,
      sampleCount: 8,
      labelDropout: 0,
    });
    const id = ok(
      await ann.client.request<{ startRun: { id: string } }>(START_RUN, {
        input: { datasetVersionId, name: 'classes', seed: SEED, config },
      }),
    ).startRun.id;
    const { run } = ok(await ann.client.request<{ run: { config: Record<string, unknown> } }>(RUN, { id }));
    expect(run.config).toEqual({ conditioning: 'CLASS', numClasses: 2, labelDropout: 0 });

    const attempt = await trainAttempt(hub, id);
    expect(attempt).toMatchObject({ outcome: 'succeeded', step: 6 });
    expect(attempt.log.join('\n')).toMatch(/conditioned on 2 classes \(top, bottom\)/);

    const ckpt = await storedCheckpoint(hub, id, 6);
    const init = createUNet(
      unetConfigFor(DdpmRunConfigSchema.parse({ ...storedConfig(config), conditioning: 'class', numClasses: 2 }), 1),
      SEED,
    );
    try {
      expect(ckpt.config).toMatchObject({ unet: { numClasses: 2 }, labelNames: ['top', 'bottom'] });
      // Rows 0 and 1 are the classes, row 2 the null label: only the rows of labels the trainer fed can move.
      const trained = (await ckpt.variables.get('label_emb.kernel')!.array()) as number[][];
      const initial = (await init.variables.get('label_emb.kernel')!.array()) as number[][];
      const moved = (row: number) => Math.max(...trained[row]!.map((v, j) => Math.abs(v - initial[row]![j]!)));
      expect(moved(0)).toBeGreaterThan(0);
      expect(moved(1)).toBeGreaterThan(0);
      expect(moved(2)).toBe(0);
    } finally {
      init.dispose?.();
      tf.dispose([...ckpt.variables.values(), ...(ckpt.ema?.values() ?? []), ...(ckpt.optimizer?.values() ?? [])]);
    }

    // 8 samples over 2 classes: 2 rows of 4 (an unconditional grid of 8 would be 3 × 3).
    const layout = gridLayout(8, 2);
    expect(layout).toMatchObject({ rows: 2, cols: 4 });
    const [grid] = await hub.db
      .select()
      .from(sampleGrids)
      .where(and(eq(sampleGrids.runId, id), eq(sampleGrids.step, 6)));
    expect(grid).toMatchObject({ width: 4 * 8 + 5 * 2, height: 2 * 8 + 3 * 2 });
    const chunks: Buffer[] = [];
    for await (const c of await hub.store.get(grid!.objectKey)) chunks.push(Buffer.from(c as Uint8Array));
    expect(await sharp(Buffer.concat(chunks)).metadata()).toMatchObject({ width: 42, height: 22 });

    // Published, the version carries the label names and a class-conditional UNet: the playground's label applies.
    const { publishModel } = ok(
      await ann.client.request<{ publishModel: { version: { labelNames: string[]; configJson: string } } }>(PUBLISH, {
        input: { runId: id, step: 6, modelName: 'classes' },
      }),
    );
    expect(publishModel.version.labelNames).toEqual(['top', 'bottom']);
    expect(JSON.parse(publishModel.version.configJson)).toMatchObject({
      unet: { numClasses: 2 },
      labelNames: ['top', 'bottom'],
    });
  });

  it('an unconditional run on the same labelled dataset publishes an unconditional model (no label names to pick)', async () => {
    const config = tinyConfig({
      steps: 2,
      batchSize: 8,
      checkpointEvery: 2,
      sampleEvery: 2,
      sampleCount: 4,
      conditioning: 'NONE',
    });
    const id = ok(
      await ann.client.request<{ startRun: { id: string } }>(START_RUN, {
        input: { datasetVersionId, name: 'plain', seed: SEED, config },
      }),
    ).startRun.id;
    expect(await trainAttempt(hub, id)).toMatchObject({ outcome: 'succeeded', step: 2 });
    const ckpt = await storedCheckpoint(hub, id, 2);
    expect(ckpt.config).toMatchObject({ labelNames: [] });
    expect((ckpt.config as { unet: Record<string, unknown> }).unet['numClasses']).toBeUndefined();
    tf.dispose([...ckpt.variables.values(), ...(ckpt.ema?.values() ?? []), ...(ckpt.optimizer?.values() ?? [])]);
    const { publishModel } = ok(
      await ann.client.request<{ publishModel: { version: { labelNames: string[] } } }>(PUBLISH, {
        input: { runId: id, step: 2, modelName: 'plain' },
      }),
    );
    expect(publishModel.version.labelNames).toEqual([]);
  });

  it("a fine-tune on a dataset that lists the base's classes in another order starts each class from the base's class of that name", async () => {
    const config = tinyConfig({ steps: 2, batchSize: 8, checkpointEvery: 2, sampleEvery: 2, sampleCount: 4 });
    const baseRun = ok(
      await ann.client.request<{ startRun: { id: string } }>(START_RUN, {
        input: { datasetVersionId, name: 'base', seed: SEED, config },
      }),
    ).startRun.id;
    expect(await trainAttempt(hub, baseRun)).toMatchObject({ outcome: 'succeeded', step: 2 });
    const published = ok(
      await ann.client.request<{ publishModel: { version: { id: string; labelNames: string[] } } }>(
        `mutation ($input: PublishModelInput!) { publishModel(input: $input) { version { id labelNames } } }`,
        { input: { runId: baseRun, step: 2, modelName: 'ordered', precision: 'FLOAT32' } },
      ),
    ).publishModel.version;
    expect(published.labelNames).toEqual(['top', 'bottom']);

    // The same images with the bottom class first: its labels are [bottom, top].
    const { versionId: swapped } = await readyDatasetVersion(hub, teamId, {
      resolution: 8,
      channels: 1,
      images: (await twoClassImages(16, 8)).reverse(),
    });
    const id = ok(
      await ann.client.request<{ startRun: { id: string } }>(START_RUN, {
        input: { datasetVersionId: swapped, name: 'ft', seed: SEED, config, fromModelVersionId: published.id },
      }),
    ).startRun.id;
    const attempt = await trainAttempt(hub, id, { stopBeforeFirstStep: true });
    expect(attempt.log.join('\n')).toContain(
      "classes matched to the base's by name: bottom from base class 1, top from base class 0",
    );

    const base = await storedCheckpoint(hub, baseRun, 2);
    const ft = await storedCheckpoint(hub, id, 0);
    try {
      expect(ft.config).toMatchObject({ labelNames: ['bottom', 'top'] });
      // The published base is the EMA weights; the fine-tune starts from them, rows in the new label order.
      const from = (await base.ema!.get('label_emb.kernel')!.array()) as number[][];
      const rows = (await ft.variables.get('label_emb.kernel')!.array()) as number[][];
      expect(rows).toEqual([from[1], from[0], from[2]]);
    } finally {
      for (const c of [base, ft])
        tf.dispose([...c.variables.values(), ...(c.ema?.values() ?? []), ...(c.optimizer?.values() ?? [])]);
    }
  });
});
