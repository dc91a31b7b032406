import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { DiskStore } from '../src/disk/disk-store.ts';
import { createSignedObjectHandler } from '../src/disk/signed-object-handler.ts';
import { parseS3Endpoint } from '../src/s3/parse-endpoint.ts';
import { S3Store } from '../src/s3/s3-store.ts';
import type { S3TestServer } from './test-env.ts';

// Reusable servers for tests (also exported as @dapple/storage/testing). Each returns a `stop()` that
// releases everything it started: ports, processes' handles and temp directories.

export interface DiskStoreFixture {
  store: DiskStore;
  /** Where the handler listens, e.g. http://127.0.0.1:41234 (the store's publicBaseUrl). */
  baseUrl: string;
  server: Server;
  stop(): Promise<void>;
}

/**
 * A DiskStore in a temp directory (or `root`) with its signed-URL handler on a real HTTP server on a
 * random port. `now` lets a test sign URLs as of another time (to test expiry).
 */
export async function startDiskStore(
  options: { root?: string; signingSecret?: string; now?: () => number } = {},
): Promise<DiskStoreFixture> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'dapple-disk-store-')));
  // Set once the store exists, which needs the server's port first; the server reads it per request.
  // eslint-disable-next-line prefer-const
  let handler: ReturnType<typeof createSignedObjectHandler> | undefined;
  const server = createServer((req, res) => {
    if (handler && req.url?.startsWith('/objects/')) {
      void handler(req, res);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store = new DiskStore({
    root,
    publicBaseUrl: baseUrl,
    signingSecret: options.signingSecret ?? randomBytes(32).toString('hex'),
    ...(options.now ? { now: options.now } : {}),
  });
  handler = createSignedObjectHandler(store);
  return {
    store,
    baseUrl,
    server,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.root) await rm(root, { recursive: true, force: true });
    },
  };
}

export interface S3rverFixture {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** An S3Store on a fresh bucket of this server. */
  createStore(bucket?: string): Promise<S3Store>;
  stop(): Promise<void>;
}

/**
 * s3rver 3.7.1 on a random port with its files in a temp directory. It lacks ListMultipartUploads,
 * ListParts and AbortMultipartUpload, and does not verify V4 signatures (see the contract capabilities).
 */
export async function startS3rver(): Promise<S3rverFixture> {
  const directory = await mkdtemp(join(tmpdir(), 'dapple-s3rver-'));
  await mkdir(directory, { recursive: true }); // s3rver needs its directory to exist
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKey = 'S3RVER';
  const secretKey = 'S3RVER';
  return {
    endpoint,
    accessKey,
    secretKey,
    async createStore(bucket = uniqueBucketName()) {
      const store = new S3Store({ ...parseS3Endpoint(endpoint), accessKey, secretKey, bucket });
      // s3rver has no ListMultipartUploads (GET ?uploads), which the minio client calls before multipart
      // puts it makes itself. S3Store streams its own parts, but keep minio internals off that call too.
      store.client.findUploadId = async () => undefined;
      await store.ensureBucket();
      return store;
    },
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export interface ExternalS3Fixture {
  store: S3Store;
  /** Deletes every object and unfinished upload in the test bucket, then the bucket. */
  stop(): Promise<void>;
}

/** An S3Store on a fresh bucket of an external server (Ceph RGW, MinIO), e.g. from s3TestServerFromEnv(). */
export async function createExternalS3Store(
  server: S3TestServer,
  bucket = uniqueBucketName(),
): Promise<ExternalS3Fixture> {
  const store = new S3Store({
    ...parseS3Endpoint(server.endpoint),
    accessKey: server.accessKey,
    secretKey: server.secretKey,
    bucket,
  });
  await store.ensureBucket();
  return {
    store,
    async stop() {
      for await (const upload of store.client.listIncompleteUploads(bucket, '', true)) {
        const { key, uploadId } = upload as { key: string; uploadId: string };
        await store.abortMultipartUpload(key, uploadId);
      }
      const keys: string[] = [];
      for await (const item of store.list('')) keys.push(item.key);
      for (let i = 0; i < keys.length; i += 1000) await store.client.removeObjects(bucket, keys.slice(i, i + 1000));
      await store.client.removeBucket(bucket);
    },
  };
}

export function uniqueBucketName(): string {
  return `dapple-test-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
