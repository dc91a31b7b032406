import type { Readable } from 'node:stream';

export type ObjectBody = Readable | Buffer | Uint8Array;

export interface PutOptions {
  /** Exact byte length of the body. Mandatory: a body of another length fails with SizeMismatchError and stores nothing. */
  size: number;
  contentType?: string;
}

export interface PutResult {
  /** Content hash as the backend reports it (md5 hex, or "<md5>-<parts>" for multipart); absent when the backend gives none. */
  etag?: string;
  size: number;
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. `end` past the last byte is clamped. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface ObjectStat {
  size: number;
  etag?: string;
  contentType?: string;
  lastModified: Date;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
}

export interface ListOptions {
  /** Only keys strictly greater than this one (for paging). */
  startAfter?: string;
}

export interface SignedRequest {
  url: string;
  method: 'PUT' | 'GET';
  /** Headers the client must send with the request (never Content-Length: browsers set it themselves). */
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface PresignPutOptions {
  expiresInSec?: number;
  /** When given, the store refuses a body of any other length (DiskStore: signed size; S3: signed Content-Length). */
  size?: number;
  contentType?: string;
}

export interface PresignGetOptions {
  expiresInSec?: number;
}

export interface PresignPartOptions {
  expiresInSec?: number;
  /** When given, the part must have exactly this length. */
  size?: number;
}

export interface CreateMultipartOptions {
  contentType?: string;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

/** Every part but the last must be at least this long (S3's rule; DiskStore enforces it too). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;

/**
 * Where Dapple keeps bytes: dataset uploads and shards, checkpoints, sample grids.
 * Keys must pass `objectKey()` (see object-key.ts). Implementations: DiskStore, S3Store.
 */
export interface ObjectStore {
  readonly kind: 'disk' | 's3';
  put(key: string, body: ObjectBody, options: PutOptions): Promise<PutResult>;
  /** Throws ObjectNotFoundError, or InvalidRangeError when the range starts past the end. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  stat(key: string): Promise<ObjectStat | null>;
  /** Every object whose key starts with `prefix` (recursively), in ascending key order. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ListedObject>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Deletes everything under `prefix` (non-empty, ends with '/'); returns how many objects were deleted. */
  deletePrefix(prefix: string): Promise<number>;
  /** Throws ObjectNotFoundError when `src` is missing. */
  copy(src: string, dst: string): Promise<void>;

  presignPut(key: string, options?: PresignPutOptions): Promise<SignedRequest>;
  presignGet(key: string, options?: PresignGetOptions): Promise<SignedRequest>;

  createMultipartUpload(key: string, options?: CreateMultipartOptions): Promise<string>;
  presignPart(key: string, uploadId: string, partNumber: number, options?: PresignPartOptions): Promise<SignedRequest>;
  /** Parts that arrived so far, ascending; what a client resumes from. Throws UploadNotFoundError. */
  listParts(key: string, uploadId: string): Promise<UploadedPart[]>;
  /**
   * Assembles the listed parts (ascending, with the etags their uploads returned). List every uploaded part:
   * Ceph RGW refuses a subset. Throws UploadNotFoundError (unknown or aborted) or InvalidPartError.
   * Completing a completed upload again is backend-specific (S3 repeats the result, DiskStore throws
   * UploadNotFoundError): callers that must refuse it keep that state themselves.
   */
  completeMultipartUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<PutResult>;
  /** Idempotent: aborting an unknown or finished upload is not an error. */
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
  /**
   * Removes the store's own leftovers older than `olderThanMs` (abandoned multipart uploads, temp files
   * of a crash) and says how many of each. Stores that leave this to the server (S3 lifecycle rules) omit it.
   */
  removeStale?(olderThanMs?: number): Promise<Record<string, number>>;
}
