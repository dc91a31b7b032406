// Object-store throughput: put and get of a 200 MiB stream on DiskStore, S3Store on s3rver, and S3Store on
// S3_TEST_ENDPOINT (Ceph RGW) when set. Each measurement runs in its own child process so that its peak RSS
// is its own. Baselines, measured in the same run on the same bytes:
//   disk: plain fs (pipeline into a file + fsync; createReadStream)
//   s3:   the bare minio client (putObject with the size; getObject)
// Prints one JSON line per backend and operation, with ratio = store MB/s / baseline MB/s.
//   npm run bench -w packages/storage [-- --mib 200]
import { spawn } from 'node:child_process';

import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { DiskStore } from '../src/disk/disk-store.ts';
import { parseS3Endpoint } from '../src/s3/parse-endpoint.ts';
import { S3Store } from '../src/s3/s3-store.ts';
import { generatedBody } from '../test/helpers.ts';

type Backend =
  | { kind: 'disk'; root: string }
  | {
      kind: 's3';
      name: string;
      endpoint: string;
      accessKey: string;
      secretKey: string;
      bucket: string;
      noListUploads: boolean;
    };
type Op = 'put' | 'get';
type Impl = 'store' | 'baseline';
interface Measurement {
  seconds: number;
  bytes: number;
  /** RSS of the child before the operation started (node + tsx + the store's modules). */
  startRssMB: number;
  peakRssMB: number;
}

const MiB = 1024 * 1024;

// ---------- child: one measurement ----------

async function measure(backend: Backend, op: Op, impl: Impl, bytes: number): Promise<Measurement> {
  const startRss = process.memoryUsage.rss();
  let peak = startRss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const key = `bench/${impl}.bin`;
  const body = generatedBody(bytes);
  const drain = async (stream: Readable) => {
    let n = 0;
    for await (const chunk of stream) n += (chunk as Buffer).length;
    if (n !== bytes) throw new Error(`read ${n} bytes, expected ${bytes}`);
  };
  const started = process.hrtime.bigint();
  if (backend.kind === 'disk') {
    const store = new DiskStore({
      root: backend.root,
      publicBaseUrl: 'http://127.0.0.1:1',
      signingSecret: 'x'.repeat(32),
    });
    const rawPath = join(backend.root, 'raw.bin');
    if (op === 'put' && impl === 'store') await store.put(key, body.stream(), { size: bytes });
    if (op === 'put' && impl === 'baseline') {
      await pipeline(body.stream(), createWriteStream(rawPath));
      const handle = await open(rawPath, 'r+');
      await handle.sync();
      await handle.close();
    }
    if (op === 'get' && impl === 'store') await drain(await store.get(key));
    if (op === 'get' && impl === 'baseline') await drain(createReadStream(rawPath, { highWaterMark: MiB }));
  } else {
    const store = new S3Store({
      ...parseS3Endpoint(backend.endpoint),
      accessKey: backend.accessKey,
      secretKey: backend.secretKey,
      bucket: backend.bucket,
    });
    if (backend.noListUploads) store.client.findUploadId = async () => undefined;
    if (op === 'put' && impl === 'store') await store.put(key, body.stream(), { size: bytes });
    if (op === 'put' && impl === 'baseline') await store.client.putObject(backend.bucket, key, body.stream(), bytes);
    if (op === 'get' && impl === 'store') await drain(await store.get(key));
    if (op === 'get' && impl === 'baseline') await drain(await store.client.getObject(backend.bucket, key));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  return { seconds, bytes, startRssMB: Math.round(startRss / MiB), peakRssMB: Math.round(peak / MiB) };
}

// ---------- parent: backends, children, report ----------

function runChild(backend: Backend, op: Op, impl: Impl, bytes: number): Promise<Measurement> {
  const args = [
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    '--child',
    JSON.stringify({ backend, op, impl, bytes }),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench child ${backend.kind} ${op} ${impl} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as Measurement);
    });
  });
}

async function benchBackend(name: string, backend: Backend, bytes: number, baselineName: string): Promise<void> {
  for (const op of ['put', 'get'] as const) {
    const baseline = await runChild(backend, op, 'baseline', bytes);
    const store = await runChild(backend, op, 'store', bytes);
    const mbps = (m: Measurement) => Math.round((m.bytes / 1e6 / m.seconds) * 10) / 10;
    console.log(
      JSON.stringify({
        bench: `storage.${op}`,
        backend: name,
        mib: bytes / MiB,
        seconds: Math.round(store.seconds * 100) / 100,
        mbps: mbps(store),
        peakRssMB: store.peakRssMB,
        startRssMB: store.startRssMB,
        baseline: baselineName,
        baselineMbps: mbps(baseline),
        baselinePeakRssMB: baseline.peakRssMB,
        ratio: Math.round((mbps(store) / mbps(baseline)) * 100) / 100,
      }),
    );
  }
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) {
    const { backend, op, impl, bytes } = JSON.parse(process.argv[childAt + 1]!) as {
      backend: Backend;
      op: Op;
      impl: Impl;
      bytes: number;
    };
    console.log(JSON.stringify(await measure(backend, op, impl, bytes)));
    return;
  }
  // Server fixtures are imported by the parent only, so that children measure the store client alone.
  const { createExternalS3Store, startS3rver, uniqueBucketName } = await import('../test/fixtures.ts');
  const { s3TestServerFromEnv } = await import('../test/test-env.ts');
  const mibAt = process.argv.indexOf('--mib');
  const bytes = (mibAt >= 0 ? Number(process.argv[mibAt + 1]) : 200) * MiB;

  const root = await mkdtemp(join(tmpdir(), 'dapple-bench-disk-'));
  try {
    await benchBackend('disk', { kind: 'disk', root }, bytes, 'fs write+fsync / fs read');
  } finally {
    await rm(root, { recursive: true, force: true });
  }

  const s3rver = await startS3rver();
  try {
    const store = await s3rver.createStore();
    await benchBackend(
      's3rver',
      {
        kind: 's3',
        name: 's3rver',
        endpoint: s3rver.endpoint,
        accessKey: s3rver.accessKey,
        secretKey: s3rver.secretKey,
        bucket: store.bucket,
        noListUploads: true,
      },
      bytes,
      'minio client putObject / getObject',
    );
  } finally {
    await s3rver.stop();
  }

  const external = s3TestServerFromEnv();
  if ('skip' in external) {
    console.log(JSON.stringify({ bench: 'storage', backend: 'S3_TEST_ENDPOINT', skipped: external.skip }));
    return;
  }
  const fixture = await createExternalS3Store(external, uniqueBucketName());
  try {
    await benchBackend(
      'S3_TEST_ENDPOINT',
      {
        kind: 's3',
        name: 'external',
        endpoint: external.endpoint,
        accessKey: external.accessKey,
        secretKey: external.secretKey,
        bucket: fixture.store.bucket,
        noListUploads: false,
      },
      bytes,
      'minio client putObject / getObject',
    );
  } finally {
    await fixture.stop();
  }
}

await main();
