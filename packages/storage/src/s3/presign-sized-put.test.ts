import { describe, expect, it } from 'vitest';
import { presignSizedPut } from './presign-sized-put.ts';

describe('presignSizedPut', () => {
  // Shape only: that a real S3 server accepts these signatures (and refuses another length) is checked by the
  // contract suite against Ceph RGW ('a presigned PUT signed for a size accepts that size only').
  it('signs content-length and host, with the part query parameters', () => {
    const url = new URL(
      presignSizedPut({
        endpoint: { endPoint: '127.0.0.1', port: 7480, useSSL: false },
        region: 'us-east-1',
        accessKey: 'AKIDEXAMPLE',
        secretKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        bucket: 'bucket',
        key: 'datasets/a/file.bin',
        size: 123,
        expiresInSec: 300,
        query: { partNumber: '3', uploadId: 'abc/def' },
        now: new Date('2026-01-02T03:04:05.678Z'),
      }),
    );
    expect(url.host).toBe('127.0.0.1:7480');
    expect(url.pathname).toBe('/bucket/datasets/a/file.bin');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20260102T030405Z');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20260102/us-east-1/s3/aws4_request');
    expect(url.searchParams.get('uploadId')).toBe('abc/def');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives a different signature for a different size', () => {
    const base = {
      endpoint: { endPoint: 's3.example.com', port: 443, useSSL: true },
      region: 'us-east-1',
      accessKey: 'a',
      secretKey: 'b',
      bucket: 'bk',
      key: 'k',
      expiresInSec: 60,
      now: new Date(0),
    };
    const a = new URL(presignSizedPut({ ...base, size: 1 }));
    const b = new URL(presignSizedPut({ ...base, size: 2 }));
    expect(a.host).toBe('s3.example.com');
    expect(a.searchParams.get('X-Amz-Signature')).not.toBe(b.searchParams.get('X-Amz-Signature'));
  });
});
