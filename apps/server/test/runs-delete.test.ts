/// <reference path="../../../packages/storage/test/s3rver.d.ts" />
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpoints, metricKeys, runEvents, runs, sampleGrids } from '@dapple/db';
import type { ObjectStore } from '@dapple/storage';
import { createExternalS3Store, s3TestServerFromEnv, startS3rver } from '@dapple/storage/testing';
import { errorCode } from '@dapple/testing';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { finishedRunWithCheckpoints, listKeys } from './models-fixtures.ts';
import { readyDatasetVersion, START_RUN, tinyConfig } from './runs-fixtures.ts';
import { startTestHub, type TestHub } from './support/hub.ts';

// deleteRun against real object stores: every object under runs/<id>/ goes, another run's stay; what was freed is
// reported; viewers and other members are refused; active runs and runs with published versions are refused.

const STORAGE = `query ($id: ID!) { run(id: $id) { storage { checkpoints sampleGrids objects bytes }
  publishedVersions { modelName versionNumber } } }`;
const DELETE = `mutation ($id: ID!) { deleteRun(id: $id) { checkpoints sampleGrids objects bytes } }`;
const PUBLISH = `mutation ($r: ID!) { publishModel(input: { runId: $r, step: 10, modelName: "kept" }) { version { id } } }`;

const s3 = s3TestServerFromEnv();
const backends: { name: string; start(): Promise<{ store?: ObjectStore; stop: () => Promise<void> }> }[] = [
  { name: 'DiskStore', start: async () => ({ stop: async () => {} }) },
  {
    name: 's3rver',
    start: async () => {
      const server = await startS3rver();
      return { store: await server.createStore(), stop: () => server.stop() };
    },
  },
];
if (!('skip' in s3)) {
  backends.push({
    name: `S3 at ${s3.endpoint}`,
    start: async () => {
      const fixture = await createExternalS3Store(s3);
      return { store: fixture.store, stop: () => fixture.stop() };
    },
  });
}

describe.each(backends)('deleteRun on $name', (backend) => {
  let hub: TestHub;
  let stop: () => Promise<void>;
  let ann: SignedInUser;
  let vic: SignedInUser;
  let mel: SignedInUser;
  let teamId: string;

  beforeAll(async () => {
    const started = await backend.start();
    stop = started.stop;
    hub = await startTestHub({ runs: { executor: false }, ...(started.store ? { store: started.store } : {}) });
    ann = await signUpUser(hub, 'Ann');
    vic = await signUpUser(hub, 'Vic');
    mel = await signUpUser(hub, 'Mel');
    teamId = await createTeam(ann, 'Lab', 'lab');
    await addMember(ann, teamId, vic, 'VIEWER');
    await addMember(ann, teamId, mel, 'MEMBER');
  });
  afterAll(async () => {
    await hub?.close();
    await stop?.();
  });

  it('frees every object of the run and reports it; refuses viewers, other members, and published runs', async () => {
    const { run } = await finishedRunWithCheckpoints(hub, teamId, ann.id, [10, 20]);
    const { run: other } = await finishedRunWithCheckpoints(hub, teamId, ann.id, [10]);
    // Anything else the trainer may write under the run's prefix goes too.
    await hub.store.put(`runs/${run.id}/extra/notes.txt`, Buffer.from('hello'), { size: 5 });
    const before = await listKeys(hub, `runs/${run.id}/`);
    expect(before.length).toBe(2 * 2 + 2 + 1);
    const otherKeys = await listKeys(hub, `runs/${other.id}/`);

    const storage = await ann.client.request<{ run: { storage: Record<string, number> } }>(STORAGE, { id: run.id });
    expect(storage.errors).toBeUndefined();
    const { checkpoints: ckpts, sampleGrids: grids, objects, bytes } = storage.data!.run.storage;
    expect({ ckpts, grids, objects }).toEqual({ ckpts: 2, grids: 2, objects: before.length });
    expect(bytes).toBeGreaterThan(1000);

    expect(errorCode(await vic.client.request(DELETE, { id: run.id }))).toBe('FORBIDDEN');
    expect(errorCode(await mel.client.request(DELETE, { id: run.id }))).toBe('FORBIDDEN');
    expect(errorCode(await ann.client.request(DELETE, { id: 'not-a-uuid' }))).toBe('NOT_FOUND');

    // A version published from it blocks the delete, named in the error; deleting the version unblocks it.
    const published = await ann.client.request<{ publishModel: { version: { id: string } } }>(PUBLISH, { r: run.id });
    expect(published.errors).toBeUndefined();
    const refused = await ann.client.request(DELETE, { id: run.id });
    expect(errorCode(refused)).toBe('CONFLICT');
    expect(refused.errors![0]!.message).toContain('kept v1');
    expect(await listKeys(hub, `runs/${run.id}/`)).toEqual(before);
    const blockers = await ann.client.request<{ run: { publishedVersions: unknown[] } }>(STORAGE, { id: run.id });
    expect(blockers.data!.run.publishedVersions).toEqual([{ modelName: 'kept', versionNumber: 1 }]);
    const versionId = published.data!.publishModel.version.id;
    const dropped = await ann.client.request(`mutation ($id: ID!) { deleteModelVersion(id: $id) }`, { id: versionId });
    expect(dropped.errors).toBeUndefined();

    const deleted = await ann.client.request<{ deleteRun: Record<string, number> }>(DELETE, { id: run.id });
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data!.deleteRun).toEqual({ checkpoints: 2, sampleGrids: 2, objects: before.length, bytes });
    // Nothing of the run is left in the bucket or the database; the other run is untouched.
    expect(await listKeys(hub, `runs/${run.id}/`)).toEqual([]);
    expect(await listKeys(hub, `runs/${other.id}/`)).toEqual(otherKeys);
    expect(await hub.db.select().from(runs).where(eq(runs.id, run.id))).toEqual([]);
    expect(await hub.db.select().from(checkpoints).where(eq(checkpoints.runId, run.id))).toEqual([]);
    expect(await hub.db.select().from(sampleGrids).where(eq(sampleGrids.runId, run.id))).toEqual([]);
    expect(await hub.db.select().from(runEvents).where(eq(runEvents.runId, run.id))).toEqual([]);
    expect(await hub.db.select().from(metricKeys).where(eq(metricKeys.runId, run.id))).toEqual([]);
    expect(errorCode(await ann.client.request(STORAGE, { id: run.id }))).toBe('NOT_FOUND');
    expect(errorCode(await ann.client.request(DELETE, { id: run.id }))).toBe('NOT_FOUND');
  });

  it('lets a member delete their own run, and refuses a queued run until it is cancelled', async () => {
    const { versionId } = await readyDatasetVersion(hub, teamId, { resolution: 8, channels: 1, n: 8 });
    const started = await mel.client.request<{ startRun: { id: string } }>(START_RUN, {
      input: { datasetVersionId: versionId, name: 'mine', config: tinyConfig({ steps: 10 }) },
    });
    expect(started.errors).toBeUndefined();
    const id = started.data!.startRun.id;
    const refused = await mel.client.request(DELETE, { id });
    expect(errorCode(refused)).toBe('CONFLICT');
    expect(refused.errors![0]!.message).toMatch(/is queued: cancel it first/);
    expect(
      (await mel.client.request(`mutation ($id: ID!) { cancelRun(id: $id) { id } }`, { id })).errors,
    ).toBeUndefined();
    const deleted = await mel.client.request<{ deleteRun: { objects: number } }>(DELETE, { id });
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data!.deleteRun.objects).toBe(0);
    expect(await hub.db.select().from(runs).where(eq(runs.id, id))).toEqual([]);
  });
});
