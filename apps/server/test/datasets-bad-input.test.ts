import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, gqlClient } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { buildZip, type ZipMember } from '@dapple/datasets/testing';
import {
  COMPLETE,
  createDataset,
  createUpload,
  expectedSample,
  listKeys,
  noisePng,
  ok,
  partBytes,
  put,
  readSamples,
  solidPng,
  uploadAll,
  waitForVersion,
  type CreatedUpload,
  type LocalFile,
} from './datasets-fixtures.ts';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';

const MiB = 1024 * 1024;
const LIMITS = {
  upload: {
    maxFilesPerUpload: 40,
    maxFileBytes: 2 * MiB,
    maxArchiveBytes: 20 * MiB,
    maxUploadBytes: 30 * MiB,
    multipartThresholdBytes: 5 * MiB,
    partBytes: 5 * MiB,
  },
  prepare: { maxEntries: 50 },
};

let hub: TestHub;
let ann: SignedInUser;
let teamId: string;
beforeAll(async () => {
  hub = await startTestHub({ datasets: LIMITS, jobs: { pollingIntervalSeconds: 0.5 } });
  ann = await signUpUser(hub, 'Ann');
  teamId = await createTeam(ann, 'Lab', 'lab');
});
afterAll(() => hub?.close());

const png = (path: string, bytes: Buffer): LocalFile => ({ path, bytes, contentType: 'image/png' });
const zipFile = (path: string, members: ZipMember[]): LocalFile => ({
  path,
  bytes: buildZip(members),
  contentType: 'application/zip',
});

/** createUpload + PUT everything + completeUpload; returns the finished version. */
async function uploadAndPrepare(datasetId: string, files: LocalFile[]) {
  const upload = ok(await createUpload(ann.client, datasetId, files)).createUpload;
  await uploadAll(upload, files);
  const done = ok(
    await ann.client.request<{ completeUpload: { version: { id: string } } }>(COMPLETE, { uploadId: upload.id }),
  );
  return waitForVersion(ann.client, done.completeUpload.version.id);
}

function expectBadInput(
  res: { errors?: { message: string; extensions?: Record<string, unknown> }[] },
  field: string,
  message: RegExp,
) {
  expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res.errors)).toBe('BAD_USER_INPUT');
  expect(res.errors?.[0]?.extensions?.field).toBe(field);
  expect(res.errors?.[0]?.message).toMatch(message);
}

describe('createUpload refuses bad declarations before any byte is sent', () => {
  it('names the field and the limit', async () => {
    const datasetId = await createDataset(ann.client, teamId, 'declarations');
    const one = (path: string, size: number, contentType = 'image/png') =>
      ann.client.request(`mutation ($input: CreateUploadInput!) { createUpload(input: $input) { id } }`, {
        input: { datasetId, files: [{ path, size, contentType }] },
      });
    expectBadInput(await one('/etc/passwd', 10), 'files.0.path', /is absolute/);
    expectBadInput(await one('cats/../../escape.png', 10), 'files.0.path', /climbs out/);
    expectBadInput(await one('C:\\cats\\1.png', 10), 'files.0.path', /is absolute/);
    expectBadInput(await one('cats/big.png', 2 * MiB + 1), 'files.0.size', /over the limit of 2097152 bytes per file/);
    expectBadInput(await one('all.zip', 20 * MiB + 1), 'files.0.size', /over the limit of 20971520 bytes per archive/);
    expectBadInput(await one('cats/1.png', -1), 'files.0.size', /must not be negative/);
    expectBadInput(await one('cats/1.png', 10, 'not a type'), 'files.0.contentType', /MIME type/);
    const many = await ann.client.request(
      `mutation ($input: CreateUploadInput!) { createUpload(input: $input) { id } }`,
      {
        input: {
          datasetId,
          files: Array.from({ length: 41 }, (_, i) => ({ path: `${i}.png`, size: 1, contentType: 'image/png' })),
        },
      },
    );
    expectBadInput(many, 'files', /41 files is over the limit of 40 per upload/);
    const total = await ann.client.request(
      `mutation ($input: CreateUploadInput!) { createUpload(input: $input) { id } }`,
      {
        input: {
          datasetId,
          files: [0, 1].map((i) => ({ path: `${i}.zip`, size: 16 * MiB, contentType: 'application/zip' })),
        },
      },
    );
    expectBadInput(total, 'files', /over the limit of 31457280 bytes per upload/);
    const dup = await ann.client.request(
      `mutation ($input: CreateUploadInput!) { createUpload(input: $input) { id } }`,
      {
        input: {
          datasetId,
          files: ['a/1.png', 'a//1.png'].map((path) => ({ path, size: 1, contentType: 'image/png' })),
        },
      },
    );
    expectBadInput(dup, 'files.1.path', /also files\.0\.path/);
    const res = await ann.client.request(
      `mutation { createDataset(input: { teamId: "${teamId}", name: "x", resolution: 4, channels: 2 }) { id } }`,
    );
    expectBadInput(res, 'resolution', /at least 8/);
    // Nothing was stored for any of them.
    expect(await listKeys(hub.store, `datasets/${datasetId}/`)).toEqual([]);
  });
});

describe('refused archives fail their version; earlier versions stay intact and usable', () => {
  it('zip-slip, absolute path, symlink, nested archive, zip bombs (ratio, size), too many entries', async () => {
    const datasetId = await createDataset(ann.client, teamId, 'archives');
    const good = [png('cats/1.png', await solidPng(1)), png('dogs/1.png', await solidPng(2))];
    const v1 = await uploadAndPrepare(datasetId, good);
    expect(v1).toMatchObject({ status: 'READY', acceptedCount: 2 });
    const v1Prefix = `datasets/${datasetId}/v1/`;
    const v1Keys = await listKeys(hub.store, v1Prefix);
    const v1Samples = await readSamples(hub.store, v1Prefix);
    expect(v1Samples).toEqual(
      [await expectedSample(good[0]!.bytes, 'cats', 16, 3), await expectedSample(good[1]!.bytes, 'dogs', 16, 3)].sort(),
    );

    const img = await solidPng(3);
    const cases: { name: string; file: LocalFile; error: RegExp }[] = [
      {
        name: 'zip-slip',
        file: zipFile('a.zip', [
          { name: 'cats/ok.png', data: img },
          { name: '../../evil.png', data: img },
        ]),
        error: /climbs out of the archive/,
      },
      { name: 'absolute path', file: zipFile('a.zip', [{ name: '/etc/evil.png', data: img }]), error: /is absolute/ },
      {
        name: 'symlink',
        file: zipFile('a.zip', [
          { name: 'cats/link.png', data: Buffer.from('/etc/passwd'), unixMode: 0o120777, method: 0 },
        ]),
        error: /symlink; links are not allowed/,
      },
      {
        name: 'nested archive',
        file: zipFile('a.zip', [{ name: 'inner.zip', data: buildZip([{ name: 'x.png', data: img }]) }]),
        error: /nested archives are not allowed/,
      },
      // Sizes hidden in a trailing data descriptor: the ratio is caught while inflating.
      {
        name: 'zip bomb (ratio)',
        file: zipFile('a.zip', [{ name: 'cats/bomb.png', data: Buffer.alloc(2 * MiB - 4096), descriptor: true }]),
        error: /over maxCompressionRatio=100 \(zip bomb\?\)/,
      },
      {
        name: 'zip bomb (size)',
        file: zipFile('a.zip', [{ name: 'cats/bomb.png', data: Buffer.alloc(40 * MiB) }]),
        error: /declares 41943040 bytes, over the per-file limit maxFileBytes=2097152/,
      },
      {
        name: 'too many entries',
        file: zipFile(
          'a.zip',
          Array.from({ length: 51 }, (_, i) => ({ name: `cats/${i}.txt`, data: Buffer.from(String(i)) })),
        ),
        error: /more than 50 entries/,
      },
    ];
    for (const [i, c] of cases.entries()) {
      const version = await uploadAndPrepare(datasetId, [c.file]);
      expect(version.status, c.name).toBe('FAILED');
      expect(version.error, c.name).toMatch(/^Upload refused: a\.zip: /);
      expect(version.error, c.name).toMatch(c.error);
      expect(version.number).toBe(i + 2);
      // Nothing of the failed version is left; v1 is exactly as it was and still reads.
      expect(await listKeys(hub.store, `datasets/${datasetId}/v${version.number}/`), c.name).toEqual([]);
    }
    expect(await listKeys(hub.store, v1Prefix)).toEqual(v1Keys);
    expect(await readSamples(hub.store, v1Prefix)).toEqual(v1Samples);
    const v1Again = ok(
      await ann.client.request<{ datasetVersion: { status: string; acceptedCount: number } }>(
        `query ($id: ID!) { datasetVersion(id: $id) { status acceptedCount } }`,
        { id: v1.id },
      ),
    );
    expect(v1Again.datasetVersion).toEqual({ status: 'READY', acceptedCount: 2 });
  });
});

describe('the upload protocol holds against misbehaving clients', () => {
  it('refuses a wrong Content-Length; completeUpload then names the missing file', async () => {
    const datasetId = await createDataset(ann.client, teamId, 'content-length');
    const file = png('cats/1.png', await solidPng(7));
    const upload = ok(await createUpload(ann.client, datasetId, [file])).createUpload;
    const target = upload.files[0]!.parts[0]!;
    expect(await put(target, Buffer.concat([file.bytes, Buffer.from('extra')]))).toBeGreaterThanOrEqual(400);
    expect(await put(target, file.bytes.subarray(0, 10))).toBeGreaterThanOrEqual(400);
    expectBadInput(await ann.client.request(COMPLETE, { uploadId: upload.id }), 'files.0', /has not been uploaded/);
    expect(await listKeys(hub.store, `datasets/${datasetId}/`)).toEqual([]);
    expect(await put(target, file.bytes)).toBe(200);
    ok(await ann.client.request(COMPLETE, { uploadId: upload.id }));
  });

  it('a part uploaded twice: the later copy counts; an assembled upload takes no more parts; it completes once', async () => {
    const datasetId = await createDataset(ann.client, teamId, 'twice');
    const members: ZipMember[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 14; i++) {
      const bytes = await noisePng(500);
      members.push({ name: `cats/${i}.png`, data: bytes, method: 0 });
      expected.push(await expectedSample(bytes, 'cats', 16, 3));
    }
    const file: LocalFile = { path: 'big.zip', bytes: buildZip(members), contentType: 'application/zip' };
    const upload: CreatedUpload = ok(await createUpload(ann.client, datasetId, [file])).createUpload;
    const f = upload.files[0]!;
    expect(f.multipart).toBe(true);
    // Part 1 first goes up with wrong bytes of the right length, then again with the right ones.
    expect(await put(f.parts[0]!, Buffer.alloc(f.partSize!, 0x55))).toBe(200);
    await uploadAll(upload, [file]);
    expect(await put(f.parts[0]!, partBytes(file, f, 1))).toBe(200);

    // Two completeUpload calls at once: one wins, the other is a CONFLICT.
    const both = await Promise.all([
      ann.client.request(COMPLETE, { uploadId: upload.id }),
      ann.client.request(COMPLETE, { uploadId: upload.id }),
    ]);
    expect(both.map((r) => errorCode(r) ?? 'OK').sort()).toEqual(['CONFLICT', 'OK']);
    const versionId = (both.find((r) => !r.errors)!.data as { completeUpload: { version: { id: string } } })
      .completeUpload.version.id;
    const version = await waitForVersion(ann.client, versionId);
    expect(version).toMatchObject({ status: 'READY', acceptedCount: 14 });
    // Assembled: the multipart upload is closed and its part URLs take no more bytes.
    expect(await put(f.parts[1]!, partBytes(file, f, 2))).toBeGreaterThanOrEqual(400);
    expect(await readSamples(hub.store, `datasets/${datasetId}/v1/`)).toEqual(expected.sort());
    expect(errorCode(await ann.client.request(COMPLETE, { uploadId: upload.id }))).toBe('CONFLICT');
  });

  it('abortUpload deletes what arrived; the upload cannot be completed afterwards', async () => {
    const datasetId = await createDataset(ann.client, teamId, 'abort');
    const files = [png('1.png', await solidPng(11)), png('2.png', await solidPng(12))];
    const upload = ok(await createUpload(ann.client, datasetId, files)).createUpload;
    await uploadAll(upload, files, (i) => i === 1);
    expect((await listKeys(hub.store, `datasets/${datasetId}/`)).length).toBe(1);
    const aborted = ok(
      await ann.client.request<{ abortUpload: { status: string } }>(
        `mutation ($id: ID!) { abortUpload(uploadId: $id) { status } }`,
        { id: upload.id },
      ),
    );
    expect(aborted.abortUpload.status).toBe('ABORTED');
    expect(await listKeys(hub.store, `datasets/${datasetId}/`)).toEqual([]);
    expect(errorCode(await ann.client.request(COMPLETE, { uploadId: upload.id }))).toBe('CONFLICT');
  });
});

describe('deleting', () => {
  it('deleteDatasetVersion removes its prefix only; deleteDataset removes every object, open multipart uploads included', async () => {
    const datasetId = await createDataset(ann.client, teamId, 'to-delete');
    await uploadAndPrepare(datasetId, [png('cats/1.png', await solidPng(21))]);
    const v2 = await uploadAndPrepare(datasetId, [png('cats/2.png', await solidPng(22))]);
    const del = ok(
      await ann.client.request<{ deleteDatasetVersion: { versions: { number: number }[] } }>(
        `mutation ($id: ID!) { deleteDatasetVersion(id: $id) { versions { number } } }`,
        { id: v2.id },
      ),
    );
    expect(del.deleteDatasetVersion.versions).toEqual([{ number: 1 }]);
    const keys = await listKeys(hub.store, `datasets/${datasetId}/`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith(`datasets/${datasetId}/v1/`))).toBe(true);

    // An open upload with a stored file and a half-sent multipart file.
    const big: LocalFile = { path: 'big.zip', bytes: Buffer.alloc(6 * MiB, 1), contentType: 'application/zip' };
    const small = png('x.png', await solidPng(23));
    const open = ok(await createUpload(ann.client, datasetId, [small, big])).createUpload;
    await uploadAll(open, [small, big], (i, part) => i === 1 && part === 2);
    expect(
      ok(
        await ann.client.request<{ deleteDataset: boolean }>(`mutation ($id: ID!) { deleteDataset(id: $id) }`, {
          id: datasetId,
        }),
      ).deleteDataset,
    ).toBe(true);
    expect(await listKeys(hub.store, `datasets/${datasetId}/`)).toEqual([]);
    expect(errorCode(await ann.client.request(`query ($id: ID!) { dataset(id: $id) { id } }`, { id: datasetId }))).toBe(
      'NOT_FOUND',
    );
    // The multipart upload was aborted: its part URLs no longer take bytes.
    expect(await put(open.files[1]!.parts[1]!, partBytes(big, open.files[1]!, 2))).toBeGreaterThanOrEqual(400);
  });
});

describe('authorization', () => {
  it('members read and upload, admins delete, other teams get NOT_FOUND (as if nothing were there)', async () => {
    const datasetId = await createDataset(ann.client, teamId, 'authz');
    const viewer = await signUpUser(hub, 'Vic');
    const member = await signUpUser(hub, 'Meg');
    const outsider = await signUpUser(hub, 'Otto');
    await addMember(ann, teamId, viewer, 'VIEWER');
    await addMember(ann, teamId, member, 'MEMBER');
    const files = [png('1.png', await solidPng(31))];
    const input = {
      datasetId,
      files: files.map((f) => ({ path: f.path, size: f.bytes.length, contentType: f.contentType })),
    };
    const CREATE = `mutation ($input: CreateUploadInput!) { createUpload(input: $input) { id } }`;

    const read = `query ($id: ID!) { dataset(id: $id) { name versions { id } } }`;
    expect(ok(await viewer.client.request(read, { id: datasetId }))).toBeTruthy();
    expect(
      ok(await viewer.client.request(`query ($t: ID!) { datasets(teamId: $t) { name } }`, { t: teamId })),
    ).toBeTruthy();
    expect(errorCode(await viewer.client.request(CREATE, { input }))).toBe('FORBIDDEN');
    const upload = ok(await member.client.request<{ createUpload: { id: string } }>(CREATE, { input })).createUpload;
    expect(
      errorCode(await viewer.client.request(`query ($id: ID!) { upload(id: $id) { id } }`, { id: upload.id })),
    ).toBe('FORBIDDEN');
    expect(
      errorCode(await member.client.request(`mutation ($id: ID!) { deleteDataset(id: $id) }`, { id: datasetId })),
    ).toBe('FORBIDDEN');

    const theirs = await outsider.client.request(read, { id: datasetId });
    const missing = await outsider.client.request(read, { id: '00000000-0000-4000-8000-000000000000' });
    expect(errorCode(theirs)).toBe('NOT_FOUND');
    expect(theirs.errors?.[0]?.message).toBe(missing.errors?.[0]?.message);
    expect(
      errorCode(await outsider.client.request(`query ($t: ID!) { datasets(teamId: $t) { name } }`, { t: teamId })),
    ).toBe('NOT_FOUND');
    expect(errorCode(await outsider.client.request(CREATE, { input }))).toBe('NOT_FOUND');
    expect(
      errorCode(await outsider.client.request(`query ($id: ID!) { upload(id: $id) { id } }`, { id: upload.id })),
    ).toBe('NOT_FOUND');
    expect(errorCode(await outsider.client.request(COMPLETE, { uploadId: upload.id }))).toBe('NOT_FOUND');
    expect(
      errorCode(await outsider.client.request(`mutation ($id: ID!) { deleteDataset(id: $id) }`, { id: datasetId })),
    ).toBe('NOT_FOUND');
    expect(
      errorCode(
        await outsider.client.request(
          `mutation { createDataset(input: { teamId: "${teamId}", name: "mine", resolution: 16, channels: 3 }) { id } }`,
        ),
      ),
    ).toBe('NOT_FOUND');
    expect(errorCode(await gqlClient(hub.graphqlUrl).request(read, { id: datasetId }))).toBe('UNAUTHENTICATED');
    expect(
      errorCode(
        await ann.client.request(
          `mutation { createDataset(input: { teamId: "${teamId}", name: "authz", resolution: 16, channels: 3 }) { id } }`,
        ),
      ),
    ).toBe('CONFLICT');
  });
});

describe('createUpload with a new dataset (one request instead of createDataset + createUpload)', () => {
  const CREATE = `mutation ($input: CreateUploadInput!) {
    createUpload(input: $input) {
      id datasetId status
      files { index path size multipart partSize partCount parts { partNumber size url method headers { name value } } }
    }
  }`;
  const declare = (files: LocalFile[]) =>
    files.map((f) => ({ path: f.path, size: f.bytes.length, contentType: f.contentType }));
  const datasetNames = async (client = ann.client) =>
    ok(
      await client.request<{ datasets: { name: string }[] }>(`query ($t: ID!) { datasets(teamId: $t) { name } }`, {
        t: teamId,
      }),
    ).datasets.map((d) => d.name);

  it('creates the dataset and the upload together; the upload completes into its first version', async () => {
    const files = [png('cats/1.png', await solidPng(41)), png('dogs/1.png', await solidPng(42))];
    const created = ok(
      await ann.client.request<{ createUpload: CreatedUpload & { datasetId: string } }>(CREATE, {
        input: { dataset: { teamId, name: 'together', resolution: 16, channels: 3 }, files: declare(files) },
      }),
    ).createUpload;
    const dataset = ok(
      await ann.client.request<{ dataset: { name: string; resolution: number; teamId: string } }>(
        `query ($id: ID!) { dataset(id: $id) { name resolution teamId } }`,
        { id: created.datasetId },
      ),
    ).dataset;
    expect(dataset).toEqual({ name: 'together', resolution: 16, teamId });
    await uploadAll(created, files);
    const done = ok(
      await ann.client.request<{ completeUpload: { version: { id: string } } }>(COMPLETE, { uploadId: created.id }),
    );
    expect(await waitForVersion(ann.client, done.completeUpload.version.id)).toMatchObject({
      status: 'READY',
      acceptedCount: 2,
    });
  });

  it('names the field of every bad input, and a refused declaration leaves no dataset behind', async () => {
    const files = declare([png('1.png', await solidPng(43))]);
    const good = { teamId, name: 'refused', resolution: 16, channels: 3 };
    const create = (input: Record<string, unknown>) => ann.client.request(CREATE, { input });
    expectBadInput(await create({ files }), 'datasetId', /give datasetId \(an existing dataset\) or dataset/);
    const existing = await createDataset(ann.client, teamId, 'existing-one');
    expectBadInput(await create({ datasetId: existing, dataset: good, files }), 'datasetId', /not both/);
    expectBadInput(await create({ dataset: { ...good, name: ' ' }, files }), 'dataset.name', /must not be empty/);
    expectBadInput(await create({ dataset: { ...good, resolution: 4 }, files }), 'dataset.resolution', /at least 8/);
    expectBadInput(await create({ dataset: { ...good, channels: 2 }, files }), 'dataset.channels', /1 \(grayscale\)/);
    expectBadInput(await create({ dataset: { ...good, teamId: 'x' }, files }), 'dataset.teamId', /valid team id/);
    expectBadInput(await create({ dataset: good, files: [] }), 'files', /at least one file/);
    expectBadInput(
      await create({ dataset: good, files: [{ path: '../up.png', size: 1, contentType: 'image/png' }] }),
      'files.0.path',
      /climbs out/,
    );
    expectBadInput(
      await create({ dataset: good, files: [{ path: 'big.png', size: 2 * MiB + 1, contentType: 'image/png' }] }),
      'files.0.size',
      /over the limit/,
    );
    // A taken name: CONFLICT naming the field, and the existing dataset is untouched.
    const taken = await create({ dataset: { ...good, name: 'existing-one' }, files });
    expect(errorCode(taken)).toBe('CONFLICT');
    expect(taken.errors?.[0]?.extensions?.field).toBe('dataset.name');
    expect(taken.errors?.[0]?.message).toMatch(/already has a dataset named "existing-one"/);
    expect((await datasetNames()).filter((n) => n === 'refused' || n === 'existing-one')).toEqual(['existing-one']);
  });

  it('refuses viewers (FORBIDDEN) and non-members (NOT_FOUND, as for a team that does not exist)', async () => {
    const viewer = await signUpUser(hub, 'Vera');
    const outsider = await signUpUser(hub, 'Oscar');
    await addMember(ann, teamId, viewer, 'VIEWER');
    const files = declare([png('1.png', await solidPng(44))]);
    const input = (team: string) => ({ dataset: { teamId: team, name: 'sneaky', resolution: 16, channels: 3 }, files });
    expect(errorCode(await viewer.client.request(CREATE, { input: input(teamId) }))).toBe('FORBIDDEN');
    const theirs = await outsider.client.request(CREATE, { input: input(teamId) });
    const none = await outsider.client.request(CREATE, { input: input('00000000-0000-4000-8000-000000000000') });
    expect(errorCode(theirs)).toBe('NOT_FOUND');
    expect(theirs.errors?.[0]?.message).toBe(none.errors?.[0]?.message);
    expect(errorCode(await gqlClient(hub.graphqlUrl).request(CREATE, { input: input(teamId) }))).toBe(
      'UNAUTHENTICATED',
    );
    expect(await datasetNames()).not.toContain('sneaky');
  });
});
