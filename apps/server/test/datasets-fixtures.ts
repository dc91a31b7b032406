import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import sharp from 'sharp';
import { parseManifest, processImage, ShardReader, type DatasetManifest } from '@dapple/datasets';
import type { ObjectStore } from '@dapple/storage';
import type { GqlClient, GqlResponse } from '@dapple/testing';

// Helpers for the dataset tests: generated images, a browser-like uploader (fetch PUT to the returned
// URLs), and reading a prepared version back through the trainer's ShardReader.

export interface LocalFile {
  path: string;
  bytes: Buffer;
  contentType: string;
}

/** A small PNG of one solid colour; distinct seeds give distinct bytes (no duplicates). */
export async function solidPng(seed: number, side = 24): Promise<Buffer> {
  // (r, g) is unique for seeds below 1024.
  const background = { r: seed % 256, g: (Math.floor(seed / 256) * 61 + 40) % 256, b: (seed * 193 + 80) % 256 };
  return sharp({ create: { width: side, height: side, channels: 3, background } })
    .png()
    .toBuffer();
}

/** A PNG of random noise: incompressible, so a few of them make a multi-MiB archive. */
export async function noisePng(side: number): Promise<Buffer> {
  return sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

export const CORRUPT_PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  randomBytes(300),
]);

export const CREATE_UPLOAD = `mutation ($input: CreateUploadInput!) {
  createUpload(input: $input) {
    id status
    files { index path size multipart partSize partCount parts { partNumber size url method headers { name value } } }
  }
}`;
export const UPLOAD_PROGRESS = `query ($id: ID!) { upload(id: $id) { id status files { index path received receivedParts partCount } } }`;
export const PART_URLS = `mutation ($uploadId: ID!, $fileIndex: Int!, $partNumbers: [Int!]!) {
  uploadPartUrls(uploadId: $uploadId, fileIndex: $fileIndex, partNumbers: $partNumbers) { partNumber size url method headers { name value } }
}`;
export const COMPLETE = `mutation ($uploadId: ID!) { completeUpload(uploadId: $uploadId) { upload { status } version { id number status } } }`;
export const VERSION = `query ($id: ID!) {
  datasetVersion(id: $id) {
    id number status fileCount acceptedCount rejectedCount error contentHash previewUrl manifestUrl unlabeledCount
    rejectedByReason { reason count } labels { label id count }
    thumbnails { tile columns perSheet sheetUrls }
  }
}`;

export interface PartTarget {
  partNumber: number;
  size: number;
  url: string;
  method: string;
  headers: { name: string; value: string }[];
}
export interface CreatedUpload {
  id: string;
  files: {
    index: number;
    path: string;
    size: number;
    multipart: boolean;
    partSize: number | null;
    partCount: number;
    parts: PartTarget[];
  }[];
}

export function ok<T>(res: GqlResponse<T>): T {
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!;
}

export async function createDataset(
  client: GqlClient,
  teamId: string,
  name: string,
  resolution = 16,
  channels = 3,
): Promise<string> {
  const res = await client.request<{ createDataset: { id: string } }>(
    `mutation ($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`,
    { input: { teamId, name, resolution, channels } },
  );
  return ok(res).createDataset.id;
}

export async function createUpload(
  client: GqlClient,
  datasetId: string,
  files: LocalFile[],
): Promise<GqlResponse<{ createUpload: CreatedUpload }>> {
  return client.request<{ createUpload: CreatedUpload }>(CREATE_UPLOAD, {
    input: { datasetId, files: files.map((f) => ({ path: f.path, size: f.bytes.length, contentType: f.contentType })) },
  });
}

/** The bytes of one part (or the whole file for a single-PUT file). */
export function partBytes(file: LocalFile, upload: CreatedUpload['files'][number], partNumber: number): Buffer {
  if (!upload.partSize) return file.bytes;
  const start = (partNumber - 1) * upload.partSize;
  return file.bytes.subarray(start, start + upload.partSize);
}

/** PUTs like a browser: the URL, the listed headers, the exact bytes. Returns the HTTP status. */
export async function put(target: PartTarget, body: Buffer): Promise<number> {
  const res = await fetch(target.url, {
    method: target.method,
    headers: Object.fromEntries(target.headers.map((h) => [h.name, h.value])),
    body: body as Uint8Array<ArrayBuffer>, // Node's Buffers are valid bodies; the DOM types want a plain ArrayBuffer view
  });
  await res.arrayBuffer();
  return res.status;
}

/** Starts a PUT that sends half the bytes and then drops the connection (a tab closed mid-part). */
export async function interruptedPut(target: PartTarget, body: Buffer): Promise<void> {
  const controller = new AbortController();
  const half = body.subarray(0, Math.floor(body.length / 2));
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(half);
      setTimeout(() => controller.abort(), 200);
    },
  });
  // `duplex` is required for a stream body in Node's fetch but missing from the DOM RequestInit type.
  const init = {
    method: target.method,
    headers: {
      ...Object.fromEntries(target.headers.map((h) => [h.name, h.value])),
      'content-length': String(body.length),
    },
    body: stream,
    signal: controller.signal,
    duplex: 'half',
  } as unknown as RequestInit;
  await fetch(target.url, init).then(
    (res) => res.arrayBuffer(),
    () => undefined,
  );
}

/** Uploads every part of every file that `skip` does not exclude. */
export async function uploadAll(
  upload: CreatedUpload,
  files: LocalFile[],
  skip: (fileIndex: number, partNumber: number) => boolean = () => false,
): Promise<void> {
  for (const f of upload.files) {
    for (const part of f.parts) {
      if (skip(f.index, part.partNumber)) continue;
      const status = await put(part, partBytes(files[f.index]!, f, part.partNumber));
      expect(status, `PUT ${f.path} part ${part.partNumber}`).toBe(200);
    }
  }
}

/** Polls the version until it leaves PREPARING (the job runs in the hub). */
export async function waitForVersion(client: GqlClient, versionId: string, timeoutMs = 120_000): Promise<VersionView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const version = ok(
      await client.request<{ datasetVersion: VersionView }>(VERSION, { id: versionId }),
    ).datasetVersion;
    if (version.status !== 'PREPARING') return version;
    if (Date.now() > deadline) throw new Error(`version ${versionId} still PREPARING after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface VersionView {
  id: string;
  number: number;
  status: 'PREPARING' | 'READY' | 'FAILED';
  fileCount: number;
  acceptedCount: number;
  rejectedCount: number;
  error: string | null;
  contentHash: string | null;
  previewUrl: string | null;
  manifestUrl: string | null;
  unlabeledCount: number;
  rejectedByReason: { reason: string; count: number }[];
  labels: { label: string; id: number; count: number }[];
  thumbnails: { tile: number; columns: number; perSheet: number; sheetUrls: string[] } | null;
}

export async function listKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys.sort();
}

export async function readManifest(store: ObjectStore, prefix: string): Promise<DatasetManifest> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(`${prefix}manifest.json`)) chunks.push(chunk as Buffer);
  return parseManifest(JSON.parse(Buffer.concat(chunks).toString('utf8')));
}

/** Every sample of a stored version as "label:sha256(pixels)", read with the trainer's ShardReader. */
export async function readSamples(store: ObjectStore, prefix: string): Promise<string[]> {
  const manifest = await readManifest(store, prefix);
  const reader = new ShardReader({
    manifest,
    open: (name) => store.get(`${prefix}${name}`),
    batchSize: 7,
    epochs: 1,
    seed: 3,
  });
  const sampleBytes = manifest.height * manifest.width * manifest.channels;
  const samples: string[] = [];
  for await (const batch of reader) {
    for (let i = 0; i < batch.size; i++) {
      const pixels = batch.images.subarray(i * sampleBytes, (i + 1) * sampleBytes);
      const label = batch.labels[i]!;
      samples.push(
        `${label < 0 ? '' : manifest.labels.names[label]}:${createHash('sha256').update(pixels).digest('hex')}`,
      );
    }
  }
  return samples.sort();
}

/** What readSamples should give for these images: the same pipeline on the original bytes. */
export async function expectedSample(
  bytes: Buffer,
  label: string,
  resolution: number,
  channels: 1 | 3,
): Promise<string> {
  const result = await processImage(bytes, { resolution, channels, maxImagePixels: 40_000_000 });
  if (!result.ok) throw new Error(`expected a valid image: ${result.message}`);
  return `${label}:${createHash('sha256').update(result.pixels).digest('hex')}`;
}
