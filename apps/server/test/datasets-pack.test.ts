import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planUploadItems, type PackLayout, type PackSource } from '@dapple/contracts/upload-pack';
import { crc32, crcBytes } from '@dapple/contracts/upload-zip';
import { startTestHub, type TestHub } from './support/hub.ts';
import {
  COMPLETE,
  CREATE_UPLOAD,
  createDataset,
  ok,
  put,
  solidPng,
  waitForVersion,
  type CreatedUpload,
} from './datasets-fixtures.ts';
import { createTeam, signUpUser } from './helpers.ts';

// Batched uploads: the dashboard and the CLI pack many files into a tar (the dashboard: a stored zip for small
// files) sent with `pack: true`; the hub unpacks it under the files' own paths. And signed upload URLs die with
// their upload (DiskStore: the hub refuses them).

/** A pack's bytes as a sender makes them: headers from the layout, the files' bytes and (zip) their CRC-32s. */
function packBytes(layout: PackLayout, sources: readonly { bytes: Buffer }[]): Buffer {
  return Buffer.concat(
    layout.pieces.map((p) =>
      p.kind === 'bytes'
        ? Buffer.from(p.bytes)
        : p.kind === 'crc'
          ? Buffer.from(crcBytes(crc32(sources[p.index]!.bytes)))
          : sources[p.index]!.bytes,
    ),
  );
}

const URL_EXPIRY_SEC = 7;

describe('packed uploads and upload URLs that die with their upload', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({
      datasets: { upload: { urlExpirySec: URL_EXPIRY_SEC } },
      jobs: { pollingIntervalSeconds: 0.5 },
    });
  });
  afterAll(async () => {
    await hub?.close();
  });

  async function setUp(slug: string) {
    const ann = await signUpUser(hub, 'Ann');
    const teamId = await createTeam(ann, 'Lab', `${slug}-${Date.now()}`);
    const datasetId = await createDataset(ann.client, teamId, 'packed', 16);
    return { ann, datasetId };
  }

  it('unpacks a pack under its members own paths and labels, then refuses writes to its URLs', async () => {
    const { ann, datasetId } = await setUp('pack');
    const sources: (PackSource & { bytes: Buffer })[] = [];
    for (let i = 0; i < 6; i++) {
      const bytes = await solidPng(i + (i % 2 ? 300 : 0));
      sources.push({ path: `${i % 2 ? 'dogs' : 'cats'}/${i}-été.png`, size: bytes.length, mtimeMs: 0, bytes });
    }
    const [pack] = planUploadItems(sources);
    if (pack?.kind !== 'pack') throw new Error('expected one pack');
    const tar = packBytes(pack.layout, sources);
    const started = Date.now();
    const upload = ok(
      await ann.client.request<{ createUpload: CreatedUpload & { files: { parts: { expiresAt: string }[] }[] } }>(
        CREATE_UPLOAD.replace('headers { name value }', 'headers { name value } expiresAt'),
        {
          input: {
            datasetId,
            files: [{ path: pack.path, size: tar.length, contentType: 'application/x-tar', pack: true }],
          },
        },
      ),
    ).createUpload;
    const target = upload.files[0]!.parts[0]!;
    // The configured lifetime, not the store's default of 300 s.
    const expiresIn = (Date.parse((target as unknown as { expiresAt: string }).expiresAt) - started) / 1000;
    expect(expiresIn).toBeLessThanOrEqual(URL_EXPIRY_SEC + 1);
    expect(await put(target, tar)).toBe(200);
    const completed = ok(
      await ann.client.request<{ completeUpload: { version: { id: string } } }>(COMPLETE, { uploadId: upload.id }),
    ).completeUpload;

    // The URL was still valid by its signature, but its upload is completed: the hub refuses it.
    const again = await fetch(target.url, {
      method: 'PUT',
      headers: Object.fromEntries(target.headers.map((h) => [h.name, h.value])),
      body: new Uint8Array(tar.length),
    });
    expect(again.status).toBe(403);
    expect(await again.text()).toMatch(/WRITE_CLOSED.*completed/);

    const version = await waitForVersion(ann.client, completed.version.id);
    expect(version).toMatchObject({ status: 'READY', acceptedCount: 6, error: null });
    expect(version.labels.map((l) => [l.label, l.count])).toEqual([
      ['cats', 3],
      ['dogs', 3],
    ]);
    const files = ok(
      await ann.client.request<{ datasetVersion: { files: { nodes: { path: string; label: string }[] } } }>(
        `query ($id: ID!) { datasetVersion(id: $id) { files { nodes { path label } } } }`,
        { id: version.id },
      ),
    ).datasetVersion.files.nodes;
    expect(files.map((f) => f.path).sort()).toEqual(sources.map((s) => s.path).sort());
  });

  /** Uploads `bytes` as one pack named `path`, completes the upload and waits for its version. */
  async function uploadPack(
    ann: Awaited<ReturnType<typeof setUp>>['ann'],
    datasetId: string,
    path: string,
    bytes: Buffer,
  ) {
    const upload = ok(
      await ann.client.request<{ createUpload: CreatedUpload }>(CREATE_UPLOAD, {
        input: { datasetId, files: [{ path, size: bytes.length, contentType: 'application/zip', pack: true }] },
      }),
    ).createUpload;
    expect(upload.files[0]!.parts).toHaveLength(1);
    expect(await put(upload.files[0]!.parts[0]!, bytes)).toBe(200);
    const completed = ok(
      await ann.client.request<{ completeUpload: { version: { id: string } } }>(COMPLETE, { uploadId: upload.id }),
    ).completeUpload;
    return waitForVersion(ann.client, completed.version.id);
  }

  it('prepares a zip pack of many small files into a version with every file, labelled by its folder', async () => {
    const { ann, datasetId } = await setUp('zip');
    const labels = ['birds', 'cats', 'dogs'];
    const sources: (PackSource & { bytes: Buffer })[] = [];
    for (let i = 0; i < 300; i++) {
      const bytes = await solidPng(i, 8);
      sources.push({ path: `${labels[i % 3]}/${i}.png`, size: bytes.length, mtimeMs: 1_700_000_000_000, bytes });
    }
    const [pack] = planUploadItems(sources, { zipSmallFiles: true });
    if (pack?.kind !== 'pack') throw new Error('expected one pack');
    expect([pack.format, pack.path]).toEqual(['zip', 'dapple-pack-1.zip']);
    const version = await uploadPack(ann, datasetId, pack.path, packBytes(pack.layout, sources));
    expect(version).toMatchObject({ status: 'READY', acceptedCount: 300, rejectedCount: 0, error: null });
    expect(version.labels.map((l) => [l.label, l.count])).toEqual(labels.map((label) => [label, 100]));
  });

  it('refuses a broken zip pack with an error naming the entry', async () => {
    const { ann, datasetId } = await setUp('zip-broken');
    const sources: (PackSource & { bytes: Buffer })[] = [];
    for (let i = 0; i < 3; i++) {
      const bytes = await solidPng(i, 8);
      sources.push({ path: `cats/${i}.png`, size: bytes.length, mtimeMs: 0, bytes });
    }
    const [pack] = planUploadItems(sources, { zipSmallFiles: true });
    if (pack?.kind !== 'pack' || pack.format !== 'zip') throw new Error('expected one zip pack');
    const zip = packBytes(pack.layout, sources);
    // One byte of cats/1.png changed after its CRC-32 was taken: what a file edited mid-upload would send.
    const second = pack.layout.ends[1]!;
    zip[second.start + 20]! ^= 0xff;
    const version = await uploadPack(ann, datasetId, pack.path, zip);
    expect(version.status).toBe('FAILED');
    expect(version.error).toMatch(/^Upload refused: .*"cats\/1\.png".*CRC-32/);
  });

  it('refuses writes to the URLs of an aborted upload, and `pack` on anything but a .tar or .zip', async () => {
    const { ann, datasetId } = await setUp('abort');
    const bytes = await solidPng(7);
    const upload = ok(
      await ann.client.request<{ createUpload: CreatedUpload }>(CREATE_UPLOAD, {
        input: { datasetId, files: [{ path: 'a.png', size: bytes.length, contentType: 'image/png' }] },
      }),
    ).createUpload;
    const target = upload.files[0]!.parts[0]!;
    ok(await ann.client.request(`mutation ($id: ID!) { abortUpload(uploadId: $id) { status } }`, { id: upload.id }));
    const res = await fetch(target.url, {
      method: 'PUT',
      headers: Object.fromEntries(target.headers.map((h) => [h.name, h.value])),
      body: new Uint8Array(bytes),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/aborted/);

    const tgz = await ann.client.request(CREATE_UPLOAD, {
      input: { datasetId, files: [{ path: 'x.tgz', size: 10, contentType: 'application/gzip', pack: true }] },
    });
    expect(tgz.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(tgz.errors?.[0]?.message).toMatch(/files\.0\.pack: a packed file must be a \.tar or a \.zip/);
  });
});
