import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { errorCode } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import {
  COMPLETE,
  createDataset,
  createUpload,
  listKeys,
  ok,
  solidPng,
  uploadAll,
  type LocalFile,
} from './datasets-fixtures.ts';
import { createTeam, signUpUser } from './helpers.ts';

// Abandoned uploads: the scheduled dataset.uploads.expire job ends uploads left open past their expiry.

let clock = Date.now();
let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ now: () => new Date(clock), datasets: { upload: { uploadTtlMs: 3_600_000 } } });
});
afterAll(() => hub?.close());

it('expires uploads left open past their expiry, deleting what arrived; the job is scheduled', async () => {
  const ann = await signUpUser(hub, 'Ann');
  const teamId = await createTeam(ann, 'Lab', 'expiry-lab');
  const datasetId = await createDataset(ann.client, teamId, 'abandoned');
  const files: LocalFile[] = [{ path: 'a.png', bytes: await solidPng(1), contentType: 'image/png' }];
  const stale = ok(await createUpload(ann.client, datasetId, files)).createUpload;
  await uploadAll(stale, files);
  clock += 30 * 60_000;
  const fresh = ok(await createUpload(ann.client, datasetId, files)).createUpload;
  await uploadAll(fresh, files);
  expect(await listKeys(hub.store, `datasets/${datasetId}/uploads/`)).toHaveLength(2);

  clock += 31 * 60_000; // the first upload is now past its hour, the second is not
  expect(errorCode(await ann.client.request(COMPLETE, { uploadId: stale.id }))).toBe('CONFLICT');
  expect(await hub.hub.services.uploads.expireStale()).toBe(1);
  expect(await listKeys(hub.store, `datasets/${datasetId}/uploads/`)).toEqual([
    `datasets/${datasetId}/uploads/${fresh.id}/0`,
  ]);
  const status = (id: string) =>
    ann.client.request<{ upload: { status: string } }>(`query ($id: ID!) { upload(id: $id) { status } }`, { id });
  expect(ok(await status(stale.id)).upload.status).toBe('ABORTED');
  expect(ok(await status(fresh.id)).upload.status).toBe('OPEN');
  expect(await hub.hub.services.uploads.expireStale()).toBe(0);

  // Registered with pg-boss's cron (once the hub's workers have started in the background).
  let schedules: unknown[] = [];
  for (let i = 0; i < 100 && schedules.length === 0; i++) {
    schedules = (
      await hub.db
        .execute(sql`select name, cron from pgboss.schedule where name = 'dataset.uploads.expire'`)
        .catch(() => ({ rows: [] }))
    ).rows;
    if (schedules.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  expect(schedules).toEqual([{ name: 'dataset.uploads.expire', cron: '*/15 * * * *' }]);
});
