import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import { parseS3Endpoint } from './parse-endpoint.ts';

describe('parseS3Endpoint', () => {
  it('splits scheme, host and port with scheme defaults', () => {
    expect(parseS3Endpoint('http://127.0.0.1:7480')).toEqual({ endPoint: '127.0.0.1', port: 7480, useSSL: false });
    expect(parseS3Endpoint('https://s3.example.com')).toEqual({ endPoint: 's3.example.com', port: 443, useSSL: true });
    expect(parseS3Endpoint('http://minio:9000/')).toEqual({ endPoint: 'minio', port: 9000, useSSL: false });
    expect(parseS3Endpoint('http://[::1]:9000')).toEqual({ endPoint: '::1', port: 9000, useSSL: false });
  });

  it('refuses what the minio client cannot use', () => {
    for (const bad of ['minio:9000', 'ftp://x', 'http://x/bucket', 'http://u:p@x', 'http://x?a=1']) {
      expect(() => parseS3Endpoint(bad), bad).toThrow(InvalidArgumentError);
    }
  });
});
