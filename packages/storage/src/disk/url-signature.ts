import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors.ts';

/** What a hub-signed URL allows: one method on one key until `expires`, optionally pinned to a size, type or part. */
export interface UrlGrant {
  method: 'GET' | 'PUT';
  key: string;
  /** Unix seconds. */
  expires: number;
  size?: number;
  contentType?: string;
  uploadId?: string;
  partNumber?: number;
}

export const PARAM = {
  expires: 'X-Dapple-Expires',
  size: 'X-Dapple-Size',
  contentType: 'X-Dapple-Content-Type',
  uploadId: 'X-Dapple-Upload-Id',
  partNumber: 'X-Dapple-Part-Number',
  signature: 'X-Dapple-Signature',
} as const;

// Every field is signed, including the method, so a GET URL cannot be replayed as a PUT and a part URL
// cannot be used for another part. Fields are newline-separated; none of them can contain a newline.
function stringToSign(grant: UrlGrant): string {
  return [
    'dapple-url-v1',
    grant.method,
    grant.key,
    String(grant.expires),
    grant.size === undefined ? '' : String(grant.size),
    grant.contentType ?? '',
    grant.uploadId ?? '',
    grant.partNumber === undefined ? '' : String(grant.partNumber),
  ].join('\n');
}

function hmac(secret: string, grant: UrlGrant): Buffer {
  return createHmac('sha256', secret).update(stringToSign(grant)).digest();
}

export function signedQuery(secret: string, grant: UrlGrant): URLSearchParams {
  const query = new URLSearchParams();
  query.set(PARAM.expires, String(grant.expires));
  if (grant.size !== undefined) query.set(PARAM.size, String(grant.size));
  if (grant.contentType !== undefined) query.set(PARAM.contentType, grant.contentType);
  if (grant.uploadId !== undefined) query.set(PARAM.uploadId, grant.uploadId);
  if (grant.partNumber !== undefined) query.set(PARAM.partNumber, String(grant.partNumber));
  query.set(PARAM.signature, hmac(secret, grant).toString('hex'));
  return query;
}

function optionalInt(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new SignatureError('invalid', `query parameter ${name} is not a number`);
  return Number(raw);
}

/**
 * Checks a request against its signature; returns the grant it carries. The signature is checked before
 * the expiry, so a forged URL is reported as invalid rather than telling the forger it expired.
 */
export function verifySignedQuery(
  secret: string,
  method: 'GET' | 'PUT',
  key: string,
  query: URLSearchParams,
  nowMs: number,
): UrlGrant {
  const signature = query.get(PARAM.signature);
  const expires = optionalInt(query, PARAM.expires);
  if (signature === null || expires === undefined) {
    throw new SignatureError('invalid', `the URL is not signed (needs ${PARAM.expires} and ${PARAM.signature})`);
  }
  const grant: UrlGrant = { method, key, expires };
  const size = optionalInt(query, PARAM.size);
  if (size !== undefined) grant.size = size;
  const contentType = query.get(PARAM.contentType);
  if (contentType !== null) grant.contentType = contentType;
  const uploadId = query.get(PARAM.uploadId);
  if (uploadId !== null) grant.uploadId = uploadId;
  const partNumber = optionalInt(query, PARAM.partNumber);
  if (partNumber !== undefined) grant.partNumber = partNumber;

  const expected = hmac(secret, grant);
  const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SignatureError('invalid', `the signature does not match this ${method} request for '${key}'`);
  }
  if (nowMs > expires * 1000) {
    throw new SignatureError('expired', `the URL expired at ${new Date(expires * 1000).toISOString()}`);
  }
  return grant;
}
