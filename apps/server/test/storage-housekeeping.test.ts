import { utimes } from 'node:fs/promises';
import { DiskStore } from '@dapple/storage';
import { startTestHub, type TestHub } from './support/hub.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';

// The daily `storage.housekeeping` job, run through the hub's real pg-boss queue: the disk store's
// multipart uploads abandoned for more than a week go, fresh ones stay.
let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ runs: { executor: false }, jobs: { pollingIntervalSeconds: 0.5 } });
});
afterAll(() => hub?.close());

it('removes abandoned disk-store uploads older than a week and keeps fresh ones', async () => {
  const store = hub.store as DiskStore;
  expect(store).toBeInstanceOf(DiskStore);
  const abandoned = await store.createMultipartUpload('housekeeping/old');
  const fresh = await store.createMultipartUpload('housekeeping/fresh');
  const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600_000);
  await utimes(store.layout.uploadDir(abandoned), eightDaysAgo, eightDaysAgo);

  await hub.hub.jobs.send('storage.housekeeping', {});
  let gone = false;
  for (let i = 0; i < 300 && !gone; i++) {
    await new Promise((r) => setTimeout(r, 100));
    gone = await store.listParts('housekeeping/old', abandoned).then(
      () => false,
      () => true,
    );
  }
  expect(gone).toBe(true);
  expect(await store.listParts('housekeeping/fresh', fresh)).toEqual([]);
});
