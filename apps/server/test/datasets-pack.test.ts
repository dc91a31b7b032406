import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planUploadItems, type PackSource } from '@dapple/contracts/upload-pack';
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

// Batched uploads: the dashboard and the CLI pack many files into a tar sent with `pack: true`; the hub unpacks
// it under the files' own paths. And signed upload URLs die with their upload (DiskStore: the hub refuses them).

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
    const tar = Buffer.concat(
      pack.layout.pieces.map((p) => (p.kind === 'bytes' ? Buffer.from(p.bytes) : sources[p.index]!.bytes)),
    );
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

  it('refuses writes to the URLs of an aborted upload, and `pack` on anything but a .tar', async () => {
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

    const zip = await ann.client.request(CREATE_UPLOAD, {
      input: { datasetId, files: [{ path: 'x.zip', size: 10, contentType: 'application/zip', pack: true }] },
    });
    expect(zip.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(zip.errors?.[0]?.message).toMatch(/files\.0\.pack/);
  });
});
