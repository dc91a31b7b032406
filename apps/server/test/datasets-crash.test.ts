import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { datasetVersions } from '@dapple/db';
import { DiskStore } from '@dapple/storage';
import { createTestDatabase, freePort, type TestDatabase } from '@dapple/testing';
import { startTestHub, TEST_SECRET, type TestHub } from './support/hub.ts';
import { buildZip } from '@dapple/datasets/testing';
import { createLogger } from '../src/logger.ts';
import {
  COMPLETE,
  createDataset,
  createUpload,
  listKeys,
  ok,
  put,
  readManifest,
  readSamples,
  solidPng,
  uploadAll,
  type LocalFile,
} from './datasets-fixtures.ts';
import { createTeam, signUpUser } from './helpers.ts';

// A dataset.prepare killed halfway must never leave a version READY without its manifest, and running
// the job again (what pg-boss does after the job expires) must produce a clean READY version.

const IMAGES = 640; // ten thumbnail sheets: the first appears long before the manifest
let hub: TestHub;
let database: TestDatabase;
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dapple-crash-store-'));
  const port = await freePort();
  const store = new DiskStore({ root, publicBaseUrl: `http://127.0.0.1:${port}`, signingSecret: TEST_SECRET });
  // No workers in this hub: the job runs in the child process below, then in the test itself.
  database = await createTestDatabase();
  hub = await startTestHub({
    port,
    store,
    databaseUrl: database.connectionString,
    jobs: { workers: false },
    datasets: { upload: { multipartThresholdBytes: 5 * 1024 * 1024, partBytes: 5 * 1024 * 1024 } },
  });
});
afterAll(async () => {
  await hub?.close();
  await database?.drop();
  if (root) await rm(root, { recursive: true, force: true });
});

it('a prepare killed halfway leaves the version PREPARING without a manifest; the retry makes it READY and clean', async () => {
  const ann = await signUpUser(hub, 'Ann');
  const teamId = await createTeam(ann, 'Lab', 'crash-lab');
  const datasetId = await createDataset(ann.client, teamId, 'crash', 16);
  const members = [];
  for (let i = 0; i < IMAGES; i++)
    members.push({ name: `${i % 2 ? 'cats' : 'dogs'}/${i}.png`, data: await solidPng(i, 64), method: 0 as const });
  const file: LocalFile = { path: 'all.zip', bytes: buildZip(members), contentType: 'application/zip' };
  const upload = ok(await createUpload(ann.client, datasetId, [file])).createUpload;
  await uploadAll(upload, [file]);
  const versionId = ok(
    await ann.client.request<{ completeUpload: { version: { id: string } } }>(COMPLETE, { uploadId: upload.id }),
  ).completeUpload.version.id;
  const prefix = `datasets/${datasetId}/v1/`;

  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./datasets-prepare-child.ts', import.meta.url)),
      database.connectionString,
      root,
      versionId,
    ],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  // Kill it once it has written its first objects (a thumbnail sheet or a shard), long before the manifest.
  for (;;) {
    const keys = await listKeys(hub.store, prefix);
    if (keys.length > 0 || child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  expect(await exited, `the child finished before it could be killed (${output})`).toBe('SIGKILL');

  const leftovers = await listKeys(hub.store, prefix);
  expect(leftovers.length).toBeGreaterThan(0);
  expect(leftovers).not.toContain(`${prefix}manifest.json`);
  const [afterKill] = await hub.db.select().from(datasetVersions).where(eq(datasetVersions.id, versionId));
  expect(afterKill).toMatchObject({ status: 'preparing', manifestKey: null });

  // The retry: the same job body again, in this process.
  const outcome = await hub.hub.services.datasetPrepare.run(versionId, {
    logger: createLogger('silent'),
    finalAttempt: false,
  });
  expect(outcome).toBe('ready');
  const [ready] = await hub.db.select().from(datasetVersions).where(eq(datasetVersions.id, versionId));
  expect(ready).toMatchObject({ status: 'ready', acceptedCount: IMAGES, manifestKey: `${prefix}manifest.json` });
  // Exactly the objects the manifest names: nothing from the killed attempt survives.
  const manifest = await readManifest(hub.store, prefix);
  const named = [
    'manifest.json',
    'preview.png',
    ...manifest.shards.map((s) => s.name),
    ...manifest.thumbnails.sheets,
  ].map((n) => `${prefix}${n}`);
  expect(await listKeys(hub.store, prefix)).toEqual(named.sort());
  expect((await readSamples(hub.store, prefix)).length).toBe(IMAGES);
  // Running it once more changes nothing (the job may be delivered twice).
  expect(
    await hub.hub.services.datasetPrepare.run(versionId, { logger: createLogger('silent'), finalAttempt: false }),
  ).toBe('skipped');
});

it('a part PUT after completeUpload is refused: the upload URLs die with the upload, so the verified bytes stand', async () => {
  const bea = await signUpUser(hub, 'Bea');
  const teamId = await createTeam(bea, 'Lab', 'replaced-lab');
  const datasetId = await createDataset(bea.client, teamId, 'replaced', 16);
  const file: LocalFile = { path: 'x.zip', bytes: Buffer.alloc(6 * 1024 * 1024, 7), contentType: 'application/zip' };
  const upload = ok(await createUpload(bea.client, datasetId, [file])).createUpload;
  expect(upload.files[0]).toMatchObject({ multipart: true, partCount: 2 });
  await uploadAll(upload, [file]);
  const versionId = ok(
    await bea.client.request<{ completeUpload: { version: { id: string } } }>(COMPLETE, { uploadId: upload.id }),
  ).completeUpload.version.id;
  // Same length (the signed size allows it), other bytes: refused, although the URL's signature is still valid.
  expect(await put(upload.files[0]!.parts[0]!, Buffer.alloc(5 * 1024 * 1024, 9))).toBe(403);
  await hub.hub.services.datasetPrepare.run(versionId, { logger: createLogger('silent'), finalAttempt: false });
  const [prepared] = await hub.db.select().from(datasetVersions).where(eq(datasetVersions.id, versionId));
  // The parts are the verified ones (the etag check, which would say "Upload incomplete", has nothing to find):
  // the 6 MiB of 0x07 is simply not a zip.
  expect(prepared?.error ?? '').not.toMatch(/Upload incomplete/);
});
