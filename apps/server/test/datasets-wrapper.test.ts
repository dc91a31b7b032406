import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import {
  COMPLETE,
  createDataset,
  createUpload,
  ok,
  readSamples,
  uploadAll,
  waitForVersion,
  type LocalFile,
} from './datasets-fixtures.ts';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';

/**
 * A zip with one wrapper folder (`digits/0/…`, `digits/1/…`, `digits/2/…`, made by Info-ZIP: see
 * packages/datasets/test/fixtures) uploaded through the API: its labels are the digit folders, and the
 * preview shows every class.
 */
let hub: TestHub;
let ann: SignedInUser;
let teamId: string;

beforeAll(async () => {
  hub = await startTestHub({ runs: { executor: false }, jobs: { pollingIntervalSeconds: 0.5 } });
  ann = await signUpUser(hub, 'Ann');
  teamId = await createTeam(ann, 'Lab', 'lab');
});
afterAll(async () => {
  await hub?.close();
});

describe('labels from folders', () => {
  it('a zip with one wrapper folder gets one label per inner folder, and the preview has a row per class', async () => {
    const zip = readFileSync(new URL('../../../packages/datasets/test/fixtures/digits-wrapper.zip', import.meta.url));
    const files: LocalFile[] = [{ path: 'digits-wrapper.zip', bytes: zip, contentType: 'application/zip' }];
    const datasetId = await createDataset(ann.client, teamId, 'digits', 16, 1);
    const upload = ok(await createUpload(ann.client, datasetId, files)).createUpload;
    await uploadAll(upload, files);
    const completed = ok(
      await ann.client.request<{ completeUpload: { version: { id: string } } }>(COMPLETE, { uploadId: upload.id }),
    ).completeUpload;
    const version = await waitForVersion(ann.client, completed.version.id);
    expect(version.error).toBeNull();
    expect(version.status).toBe('READY');
    expect(version.acceptedCount).toBe(9);
    expect(version.labels.map((l) => [l.label, l.count]).sort()).toEqual([
      ['0', 3],
      ['1', 3],
      ['2', 3],
    ]);
    expect(version.unlabeledCount).toBe(0);
    // The trainer's reader sees those labels on the stored shards.
    const samples = await readSamples(hub.store, `datasets/${datasetId}/v1/`);
    expect(samples.map((s) => s.split(':')[0]).sort()).toEqual(['0', '0', '0', '1', '1', '1', '2', '2', '2']);
    // preview.png: three rows (one per class) of 16 px tiles, each class's 3 images side by side.
    const preview = Buffer.from(await (await fetch(version.previewUrl!)).arrayBuffer());
    const meta = await sharp(preview).metadata();
    expect([meta.width, meta.height]).toEqual([3 * 16, 3 * 16]);
  }, 180_000);
});
