import { describe, expect, it } from 'vitest';
import { createObjectStore } from './create-object-store.ts';
import { DiskStore } from './disk/disk-store.ts';
import { InvalidArgumentError } from './errors.ts';
import { S3Store } from './s3/s3-store.ts';

/** An S3 store's config with made-up credentials (nothing is contacted); `fields` replace its values. */
const s3Config = (fields: { port?: number; publicEndpoint?: string } = {}) => ({
  kind: 's3' as const,
  endPoint: 'minio',
  port: 9000,
  useSSL: false,
  accessKey: 'a',
  secretKey: 'b',
  bucket: 'dapple',
  ...fields,
});

describe('createObjectStore', () => {
  it('builds a DiskStore or an S3Store from plain config', () => {
    const disk = createObjectStore({
      kind: 'disk',
      root: '/tmp/x',
      publicBaseUrl: 'http://localhost:4000',
      signingSecret: 'x'.repeat(32),
    });
    expect(disk).toBeInstanceOf(DiskStore);
    const s3 = createObjectStore(s3Config({ publicEndpoint: 'http://localhost:9000' }));
    expect(s3).toBeInstanceOf(S3Store);
  });

  it('names the bad field', () => {
    expect(() =>
      createObjectStore({ kind: 'disk', root: '/tmp/x', publicBaseUrl: 'http://localhost', signingSecret: 'short' }),
    ).toThrow(/signingSecret/);
    expect(() => createObjectStore(s3Config({ port: 0 }))).toThrow(InvalidArgumentError);
  });

  it('signs S3 URLs for the public endpoint', async () => {
    const s3 = createObjectStore(s3Config({ publicEndpoint: 'https://files.example.com' }));
    const get = await s3.presignGet('k/a', { expiresInSec: 60 });
    expect(new URL(get.url).origin).toBe('https://files.example.com');
    const put = await s3.presignPut('k/a', { expiresInSec: 60, size: 5 });
    expect(new URL(put.url).origin).toBe('https://files.example.com');
  });
});
