// `npm run bench -w @dapple/server` (after bench/graphql.ts): the dataset upload protocol.
//
//   tsx bench/datasets.ts [--mb 1024] [--upload-mb 256] [--s3 http://127.0.0.1:7480 --s3-access-key K --s3-secret-key S]
//
// Without --s3 the store is a DiskStore (uploads go through the hub); with it, an S3Store on a fresh bucket
// (browsers PUT straight to S3; the hub only signs, lists parts and prepares).
//
// 1. upload_throughput: a --upload-mb file through the protocol (createUpload → PUT 16 MiB parts over HTTP, 4 at a
//    time, like the web app → completeUpload) against a raw `store.put` of the same bytes, same run. Target ratio ≥ 0.8.
// 2. archive_rss: a generated --mb zip of small JPEGs uploaded the same way and prepared by the hub's dataset.prepare
//    job; the hub runs in a child process and reports its peak RSS. Target < 300 MB.
// JSON lines on stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { DiskStore, parseS3Endpoint, S3Store, type ObjectStore, type S3StoreConfig } from '@dapple/storage';
import { freePort, startBenchDatabase } from './bench-database.ts';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '1024' },
    'upload-mb': { type: 'string', default: '256' },
    s3: { type: 'string' },
    's3-access-key': { type: 'string' },
    's3-secret-key': { type: 'string' },
  },
});
const ARCHIVE_MB = Number(values.mb);
const UPLOAD_MB = Number(values['upload-mb']);
const PARALLEL_PARTS = 4;
const MiB = 1024 * 1024;

/** A random file of `bytes` bytes (incompressible, like images). */
async function randomFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  const block = Buffer.alloc(MiB);
  for (let written = 0; written < bytes; written += MiB) {
    for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
    if (!out.write(block.subarray(0, Math.min(MiB, bytes - written))))
      await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/**
 * A stored (uncompressed, like most image zips) zip of distinct 256×256 JPEGs, streamed to disk: 64 base images,
 * each copy made unique by a JPEG comment segment (so every file is decoded, none is a duplicate).
 */
async function jpegZip(path: string, targetBytes: number): Promise<{ images: number; bytes: number }> {
  const bases: Buffer[] = [];
  for (let i = 0; i < 64; i++) {
    const raw = Buffer.alloc(256 * 256 * 3);
    for (let p = 0; p < raw.length; p++) raw[p] = ((p * (i + 3)) ^ (p >> 9)) & 255;
    bases.push(
      await sharp(raw, { raw: { width: 256, height: 256, channels: 3 } })
        .jpeg({ quality: 92 })
        .toBuffer(),
    );
  }
  const out = createWriteStream(path);
  const write = async (b: Buffer) => {
    if (!out.write(b)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  const central: Buffer[] = [];
  let offset = 0;
  let images = 0;
  while (offset < targetBytes && images < 65_000) {
    const base = bases[images % bases.length]!;
    const comment = Buffer.from(`img ${images}`);
    const com = Buffer.alloc(4);
    com.writeUInt16BE(0xfffe, 0);
    com.writeUInt16BE(comment.length + 2, 2);
    const data = Buffer.concat([base.subarray(0, 2), com, comment, base.subarray(2)]);
    const name = Buffer.from(`${images % 2 ? 'cats' : 'dogs'}/${images}.jpg`);
    const crc = zlib.crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE((3 << 8) | 20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(data.length, 20);
    c.writeUInt32LE(data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    c.writeUInt32LE(offset, 42);
    central.push(c, name);
    await write(Buffer.concat([local, name, data]));
    offset += 30 + name.length + data.length;
    images++;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(images, 8);
  end.writeUInt16LE(images, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  await write(cd);
  await new Promise<void>((resolve, reject) => out.end(end, (err?: Error | null) => (err ? reject(err) : resolve())));
  return { images, bytes: offset + cd.length + end.length };
}

type Gql = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

function client(graphqlUrl: string): { gql: Gql; setCookie(c: string): void } {
  let cookie = '';
  return {
    setCookie: (c) => (cookie = c),
    gql: async <T>(query: string, variables?: Record<string, unknown>) => {
      const res = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify({ query, variables }),
      });
      const c = res.headers.getSetCookie()[0];
      if (c) cookie = c.split(';')[0]!;
      const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
      if (body.errors) throw new Error(body.errors.map((e) => e.message).join('; '));
      return body.data!;
    },
  };
}

interface Part {
  partNumber: number;
  size: number;
  url: string;
  method: string;
  headers: { name: string; value: string }[];
}

/** The web app's upload: createUpload, PUT the parts from the file (PARALLEL_PARTS at a time), completeUpload. */
async function uploadThroughProtocol(
  gql: Gql,
  datasetId: string,
  file: string,
  name: string,
): Promise<{ seconds: number; completeSeconds: number; versionId: string }> {
  const size = (await stat(file)).size;
  const started = performance.now();
  const { createUpload } = await gql<{
    createUpload: { id: string; files: { partSize: number | null; parts: Part[] }[] };
  }>(
    `mutation ($input: CreateUploadInput!) { createUpload(input: $input) { id files { partSize parts { partNumber size url method headers { name value } } } } }`,
    { input: { datasetId, files: [{ path: name, size, contentType: 'application/zip' }] } },
  );
  const f = createUpload.files[0]!;
  const handle = await open(file);
  try {
    const queue = [...f.parts];
    await Promise.all(
      Array.from({ length: PARALLEL_PARTS }, async () => {
        for (let part = queue.shift(); part; part = queue.shift()) {
          const body = Buffer.alloc(part.size);
          await handle.read(body, 0, part.size, (part.partNumber - 1) * (f.partSize ?? 0));
          const res = await fetch(part.url, {
            method: part.method,
            headers: Object.fromEntries(part.headers.map((h) => [h.name, h.value])),
            body,
          });
          if (res.status !== 200) throw new Error(`part ${part.partNumber}: HTTP ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        }
      }),
    );
  } finally {
    await handle.close();
  }
  const completing = performance.now();
  const { completeUpload } = await gql<{ completeUpload: { version: { id: string } } }>(
    `mutation ($id: ID!) { completeUpload(uploadId: $id) { version { id } } }`,
    { id: createUpload.id },
  );
  const end = performance.now();
  return {
    seconds: (end - started) / 1000,
    completeSeconds: (end - completing) / 1000,
    versionId: completeUpload.version.id,
  };
}

async function waitForVersion(
  gql: Gql,
  id: string,
): Promise<{ status: string; acceptedCount: number; error: string | null }> {
  for (;;) {
    const { datasetVersion } = await gql<{
      datasetVersion: { status: string; acceptedCount: number; error: string | null };
    }>(`query ($id: ID!) { datasetVersion(id: $id) { status acceptedCount error } }`, { id });
    if (datasetVersion.status !== 'PREPARING') return datasetVersion;
    await new Promise((r) => setTimeout(r, 500));
  }
}

function ask(child: ChildProcess, message: string): Promise<{ type: string; rssMb: number }> {
  return new Promise((resolve) => {
    const on = (m: { type: string; rssMb: number }) => {
      if (m.type === 'peak') {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    child.send(message);
  });
}

const db = await startBenchDatabase('datasets');
const root = db.root;
let hubProcess: ChildProcess | undefined;
let cleanupStore: (() => Promise<void>) | undefined;
try {
  const port = await freePort();
  const objects = join(root, 'objects');
  const s3Config: S3StoreConfig | null = values.s3
    ? {
        ...parseS3Endpoint(values.s3),
        accessKey: values['s3-access-key'] ?? '',
        secretKey: values['s3-secret-key'] ?? '',
        bucket: `dapple-bench-${Date.now().toString(36)}`,
      }
    : null;
  if (s3Config) await new S3Store(s3Config).ensureBucket();
  const hubArgs = [db.connectionString, objects, String(port), ...(s3Config ? [JSON.stringify(s3Config)] : [])];
  hubProcess = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./datasets-hub.ts', import.meta.url)), ...hubArgs],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const hubUrl = await new Promise<string>((resolve, reject) => {
    hubProcess!.once('message', (m: { type: string; url: string }) => resolve(m.url));
    hubProcess!.once('exit', (code) => reject(new Error(`bench hub exited with ${code}`)));
  });
  const { gql } = client(`${hubUrl}/graphql`);
  await gql(
    `mutation { signUp(input: { email: "bench@example.com", password: "bench-password", name: "Bench" }) { user { id } } }`,
  );
  const { createTeam } = await gql<{ createTeam: { id: string } }>(
    `mutation { createTeam(input: { name: "Bench", slug: "bench" }) { id } }`,
  );
  const dataset = async (name: string) =>
    (
      await gql<{ createDataset: { id: string } }>(
        `mutation ($t: ID!, $n: String!) { createDataset(input: { teamId: $t, name: $n, resolution: 32, channels: 3 }) { id } }`,
        { t: createTeam.id, n: name },
      )
    ).createDataset.id;

  // 1. Upload throughput against a raw store.put of the same bytes (same disk, same run; best of 2 each, alternating).
  const blob = join(root, 'blob.zip');
  await randomFile(blob, UPLOAD_MB * MiB);
  const store: ObjectStore = s3Config
    ? new S3Store(s3Config)
    : new DiskStore({ root: objects, publicBaseUrl: hubUrl, signingSecret: 'bench-secret-'.repeat(4) });
  cleanupStore = s3Config ? async () => void (await store.deletePrefix('datasets/')) : undefined;
  let rawBest = Infinity;
  let protocolBest = Infinity;
  let completeOfBest = 0;
  for (let round = 0; round < 2; round++) {
    const t = performance.now();
    await store.put(`bench/raw-${round}`, createReadStream(blob), { size: UPLOAD_MB * MiB });
    rawBest = Math.min(rawBest, (performance.now() - t) / 1000);
    await store.delete(`bench/raw-${round}`);
    const run = await uploadThroughProtocol(gql, await dataset(`throughput-${round}`), blob, 'blob.zip');
    if (run.seconds < protocolBest) [protocolBest, completeOfBest] = [run.seconds, run.completeSeconds];
  }
  const round1 = (x: number) => Math.round(x * 100) / 100;
  const mbps = (s: number) => Math.round((UPLOAD_MB / s) * 10) / 10;
  console.log(
    JSON.stringify({
      bench: 'dataset_upload_throughput',
      store: store.kind,
      mb: UPLOAD_MB,
      parallel_parts: PARALLEL_PARTS,
      protocol_mb_s: mbps(protocolBest),
      store_put_mb_s: mbps(rawBest),
      protocol_s: round1(protocolBest),
      of_which_complete_s: round1(completeOfBest),
      store_put_s: round1(rawBest),
      ratio: Math.round((rawBest / protocolBest) * 1000) / 1000,
      target: 0.8,
    }),
  );
  await rm(blob);

  // 2. Hub RSS while a large archive is uploaded and prepared.
  const zip = join(root, 'images.zip');
  const { images, bytes } = await jpegZip(zip, ARCHIVE_MB * MiB);
  const idle = await ask(hubProcess, 'peak');
  const datasetId = await dataset('archive');
  const upload = await uploadThroughProtocol(gql, datasetId, zip, 'images.zip');
  const afterUpload = await ask(hubProcess, 'peak');
  const t = performance.now();
  const version = await waitForVersion(gql, upload.versionId);
  const prepareSeconds = (performance.now() - t) / 1000;
  const afterPrepare = await ask(hubProcess, 'peak');
  if (version.status !== 'READY') throw new Error(`archive version ${version.status}: ${version.error}`);
  const peak = Math.max(afterUpload.rssMb, afterPrepare.rssMb);
  console.log(
    JSON.stringify({
      bench: 'dataset_archive_hub_rss',
      store: store.kind,
      archive_mb: Math.round(bytes / MiB),
      images,
      accepted: version.acceptedCount,
      upload_s: Math.round(upload.seconds * 10) / 10,
      prepare_s: Math.round(prepareSeconds * 10) / 10,
      prepare_images_per_s: Math.round(images / prepareSeconds),
      hub_idle_rss_mb: idle.rssMb,
      hub_peak_rss_upload_mb: afterUpload.rssMb,
      hub_peak_rss_prepare_mb: afterPrepare.rssMb,
      peak_rss_mb: peak,
      target_mb: 300,
      ratio: Math.round((peak / 300) * 1000) / 1000,
    }),
  );
} finally {
  if (hubProcess && hubProcess.exitCode === null) {
    hubProcess.send('stop');
    await new Promise((r) => hubProcess!.once('exit', r));
  }
  await cleanupStore?.().catch(() => undefined);
  await db.close();
}
