import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { checkContentType } from '../content-type.ts';
import { InvalidRangeError, SignatureError, StorageError } from '../errors.ts';
import { objectKey } from '../object-key.ts';
import type { ByteRange } from '../object-store.ts';
import type { DiskStore } from './disk-store.ts';

export interface SignedObjectHandlerOptions {
  /** Largest body accepted by a PUT whose URL did not sign a size. Default 5 GiB (S3's single-PUT limit). */
  maxUploadBytes?: number;
  /** Called with unexpected (500) errors, for logging. */
  onError?: (error: unknown) => void;
  /**
   * Asked before a validly signed PUT is accepted: a reason string refuses it (403 WRITE_CLOSED), null lets it
   * through. Signed URLs cannot be recalled, so this is how a URL dies with what it was issued for (a dataset
   * upload that was completed or aborted) instead of living until it expires.
   */
  refuseWrite?: (key: string) => Promise<string | null>;
}

const MOUNT = '/objects/';

// Signed URLs are bearer capabilities (no cookies), so any origin may use them; the browser needs
// to read ETag to complete a multipart upload.
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'ETag, Content-Length, Content-Range, Accept-Ranges, Content-Type, Last-Modified',
};

/**
 * Serves DiskStore's signed URLs: `PUT|GET|HEAD|OPTIONS <anything>/objects/<key>?X-Dapple-...`.
 * Mount it for every request whose path starts with `/objects/` (the path is not rewritten: the key is
 * what follows the first `/objects/`).
 */
export function createSignedObjectHandler(
  store: DiskStore,
  options: SignedObjectHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const maxUploadBytes = options.maxUploadBytes ?? 5 * 1024 ** 3;
  return async (req, res) => {
    try {
      await handle(store, req, res, maxUploadBytes, options.refuseWrite);
    } catch (error) {
      sendError(req, res, error, options.onError);
    }
  };
}

async function handle(
  store: DiskStore,
  req: IncomingMessage,
  res: ServerResponse,
  maxUploadBytes: number,
  refuseWrite: SignedObjectHandlerOptions['refuseWrite'],
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://placeholder');
  const mountAt = url.pathname.indexOf(MOUNT);
  if (mountAt < 0) throw new HttpError(404, 'NOT_FOUND', `no object path in '${url.pathname}'`);
  let rawKey: string;
  try {
    rawKey = decodeURIComponent(url.pathname.slice(mountAt + MOUNT.length));
  } catch {
    throw new HttpError(400, 'INVALID_KEY', 'the object path is not valid percent-encoding');
  }
  const key = objectKey(rawKey);

  switch (req.method) {
    case 'OPTIONS':
      res.writeHead(204, {
        ...CORS_HEADERS,
        'Access-Control-Allow-Methods': 'GET, HEAD, PUT',
        'Access-Control-Allow-Headers': 'Content-Type, Range',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    case 'PUT':
      return handlePut(store, key, url.searchParams, req, res, maxUploadBytes, refuseWrite);
    case 'GET':
    case 'HEAD':
      return handleGet(store, key, url.searchParams, req, res);
    default:
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `method ${req.method} is not allowed; use GET, HEAD or PUT`);
  }
}

async function handlePut(
  store: DiskStore,
  key: string,
  query: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
  maxUploadBytes: number,
  refuseWrite: SignedObjectHandlerOptions['refuseWrite'],
): Promise<void> {
  const grant = store.verifySignedRequest('PUT', key, query);
  const refused = refuseWrite ? await refuseWrite(key) : null;
  if (refused !== null) throw new HttpError(403, 'WRITE_CLOSED', refused);
  const declared = parseContentLength(req.headers['content-length']);
  if (grant.size !== undefined && declared !== undefined && declared !== grant.size) {
    throw new HttpError(
      400,
      'SIZE_MISMATCH',
      `Content-Length is ${declared} bytes but this URL was signed for exactly ${grant.size}`,
    );
  }
  const size = grant.size ?? declared;
  if (size === undefined) throw new HttpError(411, 'LENGTH_REQUIRED', 'Content-Length is required');
  if (grant.size === undefined && size > maxUploadBytes) {
    throw new HttpError(413, 'TOO_LARGE', `the body has ${size} bytes; the limit is ${maxUploadBytes}`);
  }
  const requestType = req.headers['content-type'];
  if (grant.contentType !== undefined && requestType !== grant.contentType) {
    throw new SignatureError(
      'invalid',
      `Content-Type '${requestType ?? ''}' differs from the signed '${grant.contentType}'`,
    );
  }

  let etag: string | undefined;
  if (grant.uploadId !== undefined && grant.partNumber !== undefined) {
    etag = (await store.uploadPart(key, grant.uploadId, grant.partNumber, req, { size })).etag;
  } else {
    const contentType = grant.contentType ?? safeContentType(requestType);
    etag = (await store.put(key, req, { size, ...(contentType ? { contentType } : {}) })).etag;
  }
  res.writeHead(200, { ...CORS_HEADERS, ETag: `"${etag ?? ''}"`, 'Content-Length': '0' });
  res.end();
}

async function handleGet(
  store: DiskStore,
  key: string,
  query: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  store.verifySignedRequest('GET', key, query);
  const rangeHeader = req.headers.range;
  let range: ByteRange | undefined;
  if (rangeHeader !== undefined) {
    const stat = await store.stat(key);
    range = stat ? parseRange(rangeHeader, stat.size) : undefined;
  }
  const opened = await store.open(key, range);
  const { stat } = opened;
  const headers: Record<string, string> = {
    ...CORS_HEADERS,
    'Content-Type': stat.contentType ?? 'application/octet-stream',
    'Content-Length': String(opened.end - opened.start + 1),
    'Accept-Ranges': 'bytes',
    'Last-Modified': stat.lastModified.toUTCString(),
    'Cache-Control': 'private, no-cache',
  };
  if (stat.etag) headers.ETag = `"${stat.etag}"`;
  if (range) headers['Content-Range'] = `bytes ${opened.start}-${opened.end}/${stat.size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD') {
    opened.body.destroy();
    res.end();
    return;
  }
  await pipeline(opened.body, res);
}

/** Single ranges only: `bytes=a-b`, `bytes=a-`, `bytes=-n`. Anything else is served whole, as RFC 9110 allows. */
function parseRange(header: string, size: number): ByteRange | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) throw new InvalidRangeError(`range '${header}' selects no bytes`);
    return { start: Math.max(0, size - suffix) };
  }
  const start = Number(match[1]);
  return match[2] === '' ? { start } : { start, end: Number(match[2]) };
}

function parseContentLength(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new HttpError(400, 'BAD_REQUEST', `Content-Length '${value}' is not a number`);
  return Number(value);
}

function safeContentType(value: string | undefined): string | undefined {
  try {
    return checkContentType(value);
  } catch {
    return undefined;
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_BY_CODE: Record<string, number> = {
  SIGNATURE_INVALID: 403,
  SIGNATURE_EXPIRED: 403,
  OBJECT_NOT_FOUND: 404,
  UPLOAD_NOT_FOUND: 404,
  INVALID_RANGE: 416,
};

function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  onError?: (error: unknown) => void,
): void {
  let status = 500;
  let code = 'INTERNAL';
  let message = 'internal error while serving the object';
  if (error instanceof HttpError) {
    ({ status, code, message } = error);
  } else if (error instanceof StorageError) {
    status = STATUS_BY_CODE[error.code] ?? 400;
    code = error.code;
    message = error.message;
  } else if (!req.readableAborted && !res.destroyed) {
    onError?.(error);
  }
  if (res.headersSent) {
    res.destroy(error instanceof Error ? error : undefined); // mid-body failure: the client sees a cut connection
    return;
  }
  const body = JSON.stringify({ error: code, message });
  const headers: Record<string, string> = {
    ...CORS_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  };
  // An unread request body would otherwise be drained before the socket can be reused.
  if (!req.readableEnded) headers.Connection = 'close';
  if (status === 416) headers['Content-Range'] = 'bytes */*';
  res.writeHead(status, headers);
  res.end(body);
}
