import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { createExternalS3Store, s3TestServerFromEnv } from '@dapple/storage/testing';
import type { ObjectStore } from '@dapple/storage';
import { buildZip } from '@dapple/datasets/testing';
import {
  COMPLETE,
  CORRUPT_PNG,
  createDataset,
  createUpload,
  expectedSample,
  interruptedPut,
  listKeys,
  noisePng,
  ok,
  PART_URLS,
  partBytes,
  put,
  readSamples,
  solidPng,
  UPLOAD_PROGRESS,
  uploadAll,
  waitForVersion,
  type LocalFile,
  type PartTarget,
} from './datasets-fixtures.ts';
import { createTeam, signUpUser } from './helpers.ts';

const MiB = 1024 * 1024;
// Small multipart settings so a 12 MiB archive goes up in three parts (5 + 5 + 2 MiB).
const DATASETS = { upload: { multipartThresholdBytes: 5 * MiB, partBytes: 5 * MiB } };
const RESOLUTION = 16;

interface Backend {
  name: string;
  /** ListParts works. */
  multipart: boolean;
  /** An S3 store: small files are one-part multipart uploads too. */
  s3: boolean;
  /** Refuses a body whose length differs from the signed size (s3rver does not check signatures). */
  verifiesSignatures: boolean;
  start(): Promise<{ store?: ObjectStore; stop: () => Promise<void> }>;
}

const s3 = s3TestServerFromEnv();
const backends: Backend[] = [
  {
    name: 'DiskStore (hub-signed URLs)',
    multipart: true,
    s3: false,
    verifiesSignatures: true,
    start: async () => ({ stop: async () => {} }),
  },
  // Not s3rver: on S3 every file is a multipart upload (so its URLs die with the upload), and s3rver 3.7.1 has no
  // ListParts or AbortMultipartUpload. A real S3 (Ceph RGW, as CI runs it) is the S3 backend here.
];
if (!('skip' in s3)) {
  backends.push({
    name: `Ceph RGW / S3 at ${s3.endpoint}`,
    multipart: true,
    s3: true,
    verifiesSignatures: true,
    start: async () => {
      const fixture = await createExternalS3Store(s3);
      return { store: fixture.store, stop: () => fixture.stop() };
    },
  });
}

/** A browser folder upload: `myfolder/{cats,dogs}/…`, with a corrupt file, a non-image, a caption and (multipart) an archive. */
async function folder(
  multipart: boolean,
): Promise<{ files: LocalFile[]; expected: string[]; bigArchiveIndex: number }> {
  const files: LocalFile[] = [];
  const expected: string[] = [];
  for (let i = 0; i < 6; i++) {
    for (const label of ['cats', 'dogs']) {
      const bytes = await solidPng(label === 'cats' ? i : 100 + i);
      files.push({ path: `myfolder/${label}/${label}-${i}.png`, bytes, contentType: 'image/png' });
      expected.push(await expectedSample(bytes, label, RESOLUTION, 3));
    }
  }
  files.push({ path: 'myfolder/cats/broken.png', bytes: CORRUPT_PNG, contentType: 'image/png' });
  files.push({ path: 'myfolder/dogs/notes.png', bytes: Buffer.from('not an image at all'), contentType: 'image/png' });
  files.push({ path: 'myfolder/cats/cats-0.txt', bytes: Buffer.from('a very red cat\n'), contentType: 'text/plain' });
  let bigArchiveIndex = -1;
  if (multipart) {
    const members = [];
    for (let i = 0; i < 16; i++) {
      const label = i % 2 === 0 ? 'cats' : 'dogs';
      const bytes = await noisePng(500);
      members.push({ name: `${label}/big-${i}.png`, data: bytes, method: 0 as const });
      expected.push(await expectedSample(bytes, label, RESOLUTION, 3));
    }
    const zip = buildZip(members);
    expect(zip.length).toBeGreaterThan(10 * MiB);
    bigArchiveIndex = files.length;
    files.push({ path: 'myfolder/more.zip', bytes: zip, contentType: 'application/zip' });
  }
  return { files, expected: expected.sort(), bigArchiveIndex };
}

describe.each(backends)('dataset upload → prepare → shards on $name', (backend) => {
  let hub: TestHub;
  let stopBackend: () => Promise<void>;
  beforeAll(async () => {
    const started = await backend.start();
    stopBackend = started.stop;
    hub = await startTestHub({
      ...(started.store ? { store: started.store } : {}),
      datasets: DATASETS,
      jobs: { pollingIntervalSeconds: 0.5 },
    });
  });
  afterAll(async () => {
    await hub?.close();
    await stopBackend?.();
  });

  it('uploads a folder, resumes after an interrupted part, prepares, and the shard reader yields exactly the accepted images', async () => {
    const ann = await signUpUser(hub, 'Ann');
    const teamId = await createTeam(ann, 'Lab', `lab-${Date.now()}`);
    const datasetId = await createDataset(ann.client, teamId, 'pets', RESOLUTION);
    const { files, expected, bigArchiveIndex } = await folder(backend.multipart);

    const upload = ok(await createUpload(ann.client, datasetId, files)).createUpload;
    expect(upload.files).toHaveLength(files.length);
    if (bigArchiveIndex >= 0) {
      expect(upload.files[bigArchiveIndex]).toMatchObject({ multipart: true, partSize: 5 * MiB, partCount: 3 });
    }
    for (const f of upload.files)
      if (f.index !== bigArchiveIndex) expect(f).toMatchObject({ multipart: backend.s3, partCount: 1 });

    // First session: everything but two small files and the archive's part 2, which is cut off halfway.
    const skippedSmall = new Set([1, 4]);
    await uploadAll(
      upload,
      files,
      (fileIndex, part) => skippedSmall.has(fileIndex) || (fileIndex === bigArchiveIndex && part === 2),
    );
    if (bigArchiveIndex >= 0) {
      const big = upload.files[bigArchiveIndex]!;
      await interruptedPut(big.parts[1]!, partBytes(files[bigArchiveIndex]!, big, 2));
    }

    // An early completeUpload names what is missing and changes nothing.
    const early = await ann.client.request(COMPLETE, { uploadId: upload.id });
    expect(early.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(early.errors?.[0]?.message).toMatch(/has not been uploaded|missing part/);

    // "Reload": ask the server what arrived, fetch fresh URLs for the rest only.
    type Progress = {
      upload: {
        status: string;
        files: { index: number; received: boolean; receivedParts: number[]; partCount: number }[];
      };
    };
    const progress = ok(await ann.client.request<Progress>(UPLOAD_PROGRESS, { id: upload.id })).upload;
    expect(progress.status).toBe('OPEN');
    for (const f of progress.files) {
      if (skippedSmall.has(f.index)) expect(f).toMatchObject({ received: false, receivedParts: [] });
      else if (f.index === bigArchiveIndex) expect(f).toMatchObject({ received: false, receivedParts: [1, 3] });
      else expect(f).toMatchObject({ received: true, receivedParts: [1] });
    }
    for (const f of progress.files.filter((x) => !x.received)) {
      const missing = Array.from({ length: f.partCount }, (_, i) => i + 1).filter((n) => !f.receivedParts.includes(n));
      const targets = ok(
        await ann.client.request<{ uploadPartUrls: PartTarget[] }>(PART_URLS, {
          uploadId: upload.id,
          fileIndex: f.index,
          partNumbers: missing,
        }),
      ).uploadPartUrls;
      for (const target of targets)
        expect(await put(target, partBytes(files[f.index]!, upload.files[f.index]!, target.partNumber))).toBe(200);
    }

    const completed = ok(
      await ann.client.request<{
        completeUpload: { upload: { status: string }; version: { id: string; number: number; status: string } };
      }>(COMPLETE, { uploadId: upload.id }),
    ).completeUpload;
    expect(completed.upload.status).toBe('COMPLETED');
    type Completed = { upload: { status: string; files: { received: boolean; parts: unknown[] }[] } };
    const afterComplete = ok(
      await ann.client.request<Completed>(
        `query ($id: ID!) { upload(id: $id) { status files { received parts { url } } } }`,
        { id: upload.id },
      ),
    ).upload;
    expect(afterComplete.files.every((f) => f.received && f.parts.length === 0)).toBe(true);
    expect(completed.version).toMatchObject({ number: 1, status: 'PREPARING' });

    const version = await waitForVersion(ann.client, completed.version.id);
    expect(version.error).toBeNull();
    expect(version.status).toBe('READY');
    const accepted = expected.length;
    expect(version.acceptedCount).toBe(accepted);
    expect(version.rejectedByReason).toEqual(
      [
        { reason: 'corrupt', count: 1 },
        { reason: 'unsupported_type', count: 1 },
      ].sort((a, b) => a.reason.localeCompare(b.reason)),
    );
    expect(version.labels.map((l) => [l.label, l.count])).toEqual([
      ['cats', accepted / 2],
      ['dogs', accepted / 2],
    ]);
    expect(version.unlabeledCount).toBe(0);
    expect(version.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(version.thumbnails?.sheetUrls.length).toBe(1);

    // The trainer's reader over the stored shards: exactly the accepted images, with their folder labels.
    const prefix = `datasets/${datasetId}/v1/`;
    expect(await readSamples(hub.store, prefix)).toEqual(expected);

    // Preview and thumbnails download through their short-lived URLs.
    const preview = await fetch(version.previewUrl!);
    expect(preview.status).toBe(200);
    expect(
      Buffer.from(await preview.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    expect((await fetch(version.thumbnails!.sheetUrls[0]!)).status).toBe(200);

    // Version objects are under v1/ only; the raw upload is deleted right after the version became READY.
    let keys = await listKeys(hub.store, `datasets/${datasetId}/`);
    for (let tries = 0; tries < 200 && keys.some((k) => !k.startsWith(prefix)); tries++) {
      await new Promise((r) => setTimeout(r, 100));
      keys = await listKeys(hub.store, `datasets/${datasetId}/`);
    }
    expect(keys.filter((k) => !k.startsWith(prefix))).toEqual([]);
    expect(keys).toContain(`${prefix}manifest.json`);
    expect(keys).toContain(`${prefix}preview.png`);

    // The file list pages through every file with reasons, labels and the caption; paths are the upload's.
    type Page = {
      datasetFiles: {
        nodes: {
          path: string;
          status: string;
          rejectReason: string | null;
          label: string | null;
          caption: string | null;
        }[];
        hasNextPage: boolean;
        endCursor: string | null;
      };
    };
    const all: Page['datasetFiles']['nodes'] = [];
    let after: string | null = null;
    do {
      const page: Page['datasetFiles'] = ok(
        await ann.client.request<Page>(
          `query ($v: ID!, $after: String) { datasetFiles(versionId: $v, first: 5, after: $after) { nodes { path status rejectReason label caption } hasNextPage endCursor } }`,
          { v: version.id, after },
        ),
      ).datasetFiles;
      all.push(...page.nodes);
      after = page.hasNextPage ? page.endCursor : null;
    } while (after);
    expect(all.filter((f) => f.status === 'ACCEPTED')).toHaveLength(accepted);
    expect(all.find((f) => f.path === 'myfolder/cats/broken.png')).toMatchObject({
      status: 'REJECTED',
      rejectReason: 'corrupt',
      label: 'cats',
    });
    expect(all.find((f) => f.path === 'myfolder/cats/cats-0.png')).toMatchObject({
      status: 'ACCEPTED',
      label: 'cats',
      caption: 'a very red cat',
    });
    if (bigArchiveIndex >= 0)
      expect(all.find((f) => f.path === 'myfolder/more.zip/dogs/big-1.png')).toMatchObject({
        status: 'ACCEPTED',
        label: 'dogs',
      });
    const rejectedOnly = ok(
      await ann.client.request<Page>(
        `query ($v: ID!) { datasetFiles(versionId: $v, status: REJECTED) { nodes { path status rejectReason label caption } hasNextPage endCursor } }`,
        { v: version.id },
      ),
    ).datasetFiles;
    expect(rejectedOnly.nodes.map((f) => f.rejectReason).sort()).toEqual(['corrupt', 'unsupported_type']);

    // A second completeUpload of the same upload is a CONFLICT and makes no new version.
    const again = await ann.client.request(COMPLETE, { uploadId: upload.id });
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const versions = ok(
      await ann.client.request<{ dataset: { versions: { number: number }[] } }>(
        `query ($id: ID!) { dataset(id: $id) { versions { number } } }`,
        { id: datasetId },
      ),
    ).dataset.versions;
    expect(versions).toEqual([{ number: 1 }]);
  });

  it.runIf(backend.verifiesSignatures)(
    'the store refuses a body of another length than declared; completeUpload names the file',
    async () => {
      const bea = await signUpUser(hub, 'Bea');
      const teamId = await createTeam(bea, 'Lab', `cl-${Date.now()}`);
      const datasetId = await createDataset(bea.client, teamId, 'lengths', RESOLUTION);
      const file: LocalFile = { path: 'cats/1.png', bytes: await solidPng(1), contentType: 'image/png' };
      const upload = ok(await createUpload(bea.client, datasetId, [file])).createUpload;
      const target = upload.files[0]!.parts[0]!;
      expect(await put(target, Buffer.concat([file.bytes, Buffer.from('more')]))).toBeGreaterThanOrEqual(400);
      const res = await bea.client.request(COMPLETE, { uploadId: upload.id });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'files.0' });
      expect(res.errors?.[0]?.message).toMatch(/"cats\/1.png" has not been uploaded/);
      expect(await listKeys(hub.store, `datasets/${datasetId}/`)).toEqual([]);
    },
  );

  it('a file URL accepts no write after completeUpload or abortUpload', async () => {
    const cy = await signUpUser(hub, 'Cy');
    const teamId = await createTeam(cy, 'Lab', `dead-${Date.now()}`);
    const datasetId = await createDataset(cy.client, teamId, 'dead-urls', RESOLUTION);
    // A small file and an empty one (a caption may be empty; on S3 it is a one-part upload of 0 bytes).
    const files: LocalFile[] = [
      { path: 'cats/1.png', bytes: await solidPng(1), contentType: 'image/png' },
      { path: 'cats/1.txt', bytes: Buffer.alloc(0), contentType: 'text/plain' },
    ];
    const done = ok(await createUpload(cy.client, datasetId, files)).createUpload;
    for (const f of done.files) expect(f).toMatchObject({ multipart: backend.s3, partCount: 1 });
    const targets = done.files.map((f) => f.parts[0]!);
    for (const [i, target] of targets.entries()) expect(await put(target, files[i]!.bytes)).toBe(200);
    ok(await cy.client.request(COMPLETE, { uploadId: done.id }));
    // The same URLs, still within their expiry, with bytes of the right length.
    for (const target of targets) expect(await put(target, Buffer.alloc(target.size, 1))).toBeGreaterThanOrEqual(400);

    const dropped = ok(await createUpload(cy.client, datasetId, files)).createUpload;
    const target = dropped.files[0]!.parts[0]!;
    expect(await put(target, files[0]!.bytes)).toBe(200);
    ok(await cy.client.request(`mutation ($id: ID!) { abortUpload(uploadId: $id) { status } }`, { id: dropped.id }));
    expect(await put(target, files[0]!.bytes)).toBeGreaterThanOrEqual(400);
    expect(await put(dropped.files[1]!.parts[0]!, Buffer.alloc(0))).toBeGreaterThanOrEqual(400);
    expect(await listKeys(hub.store, `datasets/${datasetId}/uploads/${dropped.id}/`)).toEqual([]);
  });
});
