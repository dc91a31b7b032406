import { createHash, createHmac } from 'node:crypto';
import type { S3Endpoint } from './parse-endpoint.ts';

export interface SizedPutSigning {
  endpoint: S3Endpoint;
  region: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  key: string;
  size: number;
  expiresInSec: number;
  /** Extra query parameters, e.g. partNumber and uploadId for a part. */
  query?: Record<string, string>;
  now: Date;
}

// The minio client never signs Content-Length into presigned URLs, so an S3 server would take a body
// of any length. This signs a SigV4 query-string URL with `content-length` among the signed headers:
// the server then refuses any other length (SignatureDoesNotMatch). Browsers send the real length.
export function presignSizedPut(input: SizedPutSigning): string {
  const { endpoint, region } = input;
  const defaultPort = endpoint.useSSL ? 443 : 80;
  const hostName = endpoint.endPoint.includes(':') ? `[${endpoint.endPoint}]` : endpoint.endPoint;
  const host = endpoint.port === defaultPort ? hostName : `${hostName}:${endpoint.port}`;
  const amzDate = input.now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/s3/aws4_request`;
  const path = '/' + [input.bucket, ...input.key.split('/')].map(rfc3986).join('/');

  const params: Record<string, string> = {
    ...input.query,
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${input.accessKey}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': String(input.expiresInSec),
    'X-Amz-SignedHeaders': 'content-length;host',
  };
  const canonicalQuery = Object.keys(params)
    .sort()
    .map((name) => `${rfc3986(name)}=${rfc3986(params[name] ?? '')}`)
    .join('&');
  const canonicalRequest = [
    'PUT',
    path,
    canonicalQuery,
    `content-length:${input.size}\nhost:${host}\n`,
    'content-length;host',
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let signingKey: Buffer = hmac(`AWS4${input.secretKey}`, day);
  for (const part of [region, 's3', 'aws4_request']) signingKey = hmac(signingKey, part);
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  return `${endpoint.useSSL ? 'https' : 'http'}://${host}${path}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
