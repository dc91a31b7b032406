import type { Readable } from 'node:stream';
import { Client, CopyDestinationOptions, CopySourceOptions } from 'minio';
import { checkContentType } from '../content-type.ts';
import { InvalidArgumentError, InvalidPartError, InvalidRangeError, ObjectNotFoundError } from '../errors.ts';
import { deletionPrefix, listPrefix, objectKey } from '../object-key.ts';
import {
  MAX_PART_NUMBER,
  type ByteRange,
  type CompletedPart,
  type CreateMultipartOptions,
  type ListedObject,
  type ListOptions,
  type ObjectBody,
  type ObjectStat,
  type ObjectStore,
  type PresignGetOptions,
  type PresignPartOptions,
  type PresignPutOptions,
  type PutOptions,
  type PutResult,
  type SignedRequest,
  type UploadedPart,
} from '../object-store.ts';
import { checkSize, sizedBody } from '../sized-body.ts';
import { urlExpirySec } from '../url-expiry.ts';
import { MinioClient } from './minio-client.ts';
import { parseS3Endpoint, type S3Endpoint } from './parse-endpoint.ts';
import { presignSizedPut } from './presign-sized-put.ts';
import { readBlocks } from './read-blocks.ts';
import { s3ErrorCode, translateS3Error } from './s3-errors.ts';

export interface S3StoreConfig {
  endPoint: string;
  port: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  bucket: string;
  /** Default 'us-east-1' (what MinIO and Ceph RGW answer to). Setting it also spares a region lookup per presign. */
  region?: string;
  /** Where browsers reach the store when that differs from where the hub does (compose: http://localhost:9000 vs minio:9000). */
  publicEndpoint?: string;
  /** Part size for streamed puts; default 16 MiB (the client holds one part, plus one read ahead, in memory). */
  partSize?: number;
}

export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;

export class S3Store implements ObjectStore {
  readonly kind = 's3' as const;
  readonly bucket: string;
  /** The minio client talking to the store (exposed for test fixtures and bucket setup). */
  readonly client: MinioClient;
  private readonly presigner: Client;
  private readonly publicEndpoint: S3Endpoint;
  private readonly region: string;
  private readonly partSize: number;
  private readonly credentials: { accessKey: string; secretKey: string };

  constructor(config: S3StoreConfig) {
    this.bucket = config.bucket;
    this.region = config.region ?? 'us-east-1';
    this.partSize = config.partSize ?? DEFAULT_PART_SIZE;
    if (this.partSize < 5 * 1024 * 1024)
      throw new InvalidArgumentError('S3Store partSize must be at least 5 MiB (S3 minimum part size)');
    this.credentials = { accessKey: config.accessKey, secretKey: config.secretKey };
    const common = { ...this.credentials, region: this.region, pathStyle: true };
    this.client = new MinioClient({
      endPoint: config.endPoint,
      port: config.port,
      useSSL: config.useSSL,
      partSize: this.partSize,
      ...common,
    });
    this.publicEndpoint = config.publicEndpoint
      ? parseS3Endpoint(config.publicEndpoint)
      : { endPoint: config.endPoint, port: config.port, useSSL: config.useSSL };
    // Presigning is pure computation (region is fixed), done against the host browsers will use.
    this.presigner = new Client({ ...this.publicEndpoint, ...common });
  }

  async ensureBucket(): Promise<void> {
    if (await this.client.bucketExists(this.bucket)) return;
    try {
      await this.client.makeBucket(this.bucket, this.region);
    } catch (error) {
      // Someone else created it in between: fine.
      if (s3ErrorCode(error) !== 'BucketAlreadyOwnedByYou' && s3ErrorCode(error) !== 'BucketAlreadyExists') throw error;
    }
  }

  // ---- objects ----

  async put(key: string, body: ObjectBody, options: PutOptions): Promise<PutResult> {
    objectKey(key);
    const size = checkSize(options.size);
    const contentType = checkContentType(options.contentType);
    const headers: Record<string, string> = contentType ? { 'Content-Type': contentType } : {};
    const checked = sizedBody(body, size); // throws at once for a buffer of the wrong length
    if (size <= this.partSize) {
      let buffer: Buffer;
      if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
        buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      } else {
        // Read it all first: a stream of the wrong length fails here, before any request.
        const chunks: Buffer[] = [];
        for await (const chunk of checked) chunks.push(chunk as Buffer);
        buffer = Buffer.concat(chunks, size);
      }
      const result = await this.client.putObject(this.bucket, key, buffer, size, headers);
      return { ...(result.etag ? { etag: result.etag } : {}), size };
    }
    return this.putMultipart(key, checked, size, headers);
  }

  // Streams parts ourselves rather than through putObject: putObject would resume any unfinished upload of
  // the same key it finds (ListMultipartUploads) and never aborts on a failing body. This aborts, so a wrong
  // length leaves neither an object nor an orphaned upload. One block is read ahead while the previous uploads.
  private async putMultipart(
    key: string,
    body: Readable,
    size: number,
    headers: Record<string, string>,
  ): Promise<PutResult> {
    const uploadId = await this.client.initiateNewMultipartUpload(this.bucket, key, headers);
    const blocks = readBlocks(body, this.partSize)[Symbol.asyncIterator]();
    try {
      const parts: { part: number; etag: string }[] = [];
      let next = blocks.next();
      for (let partNumber = 1; ; partNumber++) {
        const block = await next;
        if (block.done) break;
        next = blocks.next();
        next.catch(() => {}); // surfaced by the await above on the next turn; avoid an unhandled rejection meanwhile
        const uploaded = await this.client.uploadPart(
          {
            bucketName: this.bucket,
            objectName: key,
            uploadID: uploadId,
            partNumber,
            headers: { 'Content-Length': block.value.length },
          },
          block.value,
        );
        parts.push({ part: partNumber, etag: uploaded.etag });
      }
      const done = await this.client.completeMultipartUpload(this.bucket, key, uploadId, parts);
      return { ...(done.etag ? { etag: done.etag } : {}), size };
    } catch (error) {
      body.destroy();
      await this.client.abortMultipartUpload(this.bucket, key, uploadId).catch(() => {});
      throw translateS3Error(error, { key, uploadId });
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    objectKey(key);
    try {
      if (!range) return await this.client.getObject(this.bucket, key);
      const { start, end } = range;
      if (!Number.isSafeInteger(start) || start < 0)
        throw new InvalidRangeError(`range.start must be a non-negative integer (got ${start})`);
      if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
        throw new InvalidRangeError(`range.end must be an integer >= range.start (got ${end} for start ${start})`);
      }
      // For { start: 0 } without end, getPartialObject sends no Range header: the whole object, as asked.
      return await this.client.getPartialObject(this.bucket, key, start, end === undefined ? 0 : end - start + 1);
    } catch (error) {
      throw translateS3Error(error, { key });
    }
  }

  async stat(key: string): Promise<ObjectStat | null> {
    objectKey(key);
    try {
      const info = await this.client.statObject(this.bucket, key);
      const stat: ObjectStat = { size: info.size, lastModified: info.lastModified };
      if (info.etag) stat.etag = info.etag;
      const contentType = (info.metaData as Record<string, unknown>)['content-type'];
      if (typeof contentType === 'string' && contentType !== 'binary/octet-stream') stat.contentType = contentType;
      return stat;
    } catch (error) {
      const code = s3ErrorCode(error);
      if (code === 'NotFound' || code === 'NoSuchKey') return null;
      throw error;
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListedObject> {
    listPrefix(prefix);
    const stream = this.client.listObjectsV2(this.bucket, prefix, true, options.startAfter ?? '');
    for await (const item of stream) {
      const { name, size, lastModified } = item as { name?: string; size: number; lastModified: Date };
      if (name !== undefined) yield { key: name, size, lastModified };
    }
  }

  async delete(key: string): Promise<void> {
    objectKey(key);
    await this.client.removeObject(this.bucket, key);
  }

  async deletePrefix(prefix: string): Promise<number> {
    deletionPrefix(prefix);
    let deleted = 0;
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const results = await this.client.removeObjects(this.bucket, batch);
      const failed = results.filter((r) => (r as { Code?: string }).Code);
      if (failed.length > 0)
        throw new Error(
          `deletePrefix('${prefix}'): ${failed.length} objects could not be deleted: ${JSON.stringify(failed.slice(0, 3))}`,
        );
      deleted += batch.length;
      batch = [];
    };
    for await (const item of this.list(prefix)) {
      batch.push(item.key);
      if (batch.length === 1000) await flush();
    }
    await flush();
    return deleted;
  }

  async copy(src: string, dst: string): Promise<void> {
    objectKey(src);
    objectKey(dst);
    try {
      await this.client.copyObject(
        new CopySourceOptions({ Bucket: this.bucket, Object: src }),
        new CopyDestinationOptions({ Bucket: this.bucket, Object: dst }),
      );
    } catch (error) {
      const translated = translateS3Error(error, { key: src });
      throw translated instanceof ObjectNotFoundError ? new ObjectNotFoundError(src, { cause: error }) : translated;
    }
  }

  // ---- presigned URLs ----

  async presignPut(key: string, options: PresignPutOptions = {}): Promise<SignedRequest> {
    objectKey(key);
    const contentType = checkContentType(options.contentType);
    const expiresInSec = urlExpirySec(options.expiresInSec);
    const now = new Date();
    const url =
      options.size === undefined
        ? await this.presigner.presignedUrl('PUT', this.bucket, key, expiresInSec, {}, now)
        : this.presignSized(key, checkSize(options.size), expiresInSec, now);
    return {
      url,
      method: 'PUT',
      headers: contentType ? { 'Content-Type': contentType } : {},
      expiresAt: new Date(now.getTime() + expiresInSec * 1000),
    };
  }

  private presignSized(
    key: string,
    size: number,
    expiresInSec: number,
    now: Date,
    query?: Record<string, string>,
  ): string {
    return presignSizedPut({
      endpoint: this.publicEndpoint,
      region: this.region,
      ...this.credentials,
      bucket: this.bucket,
      key,
      size,
      expiresInSec,
      now,
      ...(query ? { query } : {}),
    });
  }

  async presignGet(key: string, options: PresignGetOptions = {}): Promise<SignedRequest> {
    objectKey(key);
    const expiresInSec = urlExpirySec(options.expiresInSec);
    const now = new Date();
    const url = await this.presigner.presignedUrl('GET', this.bucket, key, expiresInSec, {}, now);
    return { url, method: 'GET', headers: {}, expiresAt: new Date(now.getTime() + expiresInSec * 1000) };
  }

  // ---- multipart (the browser PUTs parts to presigned URLs) ----

  async createMultipartUpload(key: string, options: CreateMultipartOptions = {}): Promise<string> {
    objectKey(key);
    const contentType = checkContentType(options.contentType);
    return this.client.initiateNewMultipartUpload(this.bucket, key, contentType ? { 'Content-Type': contentType } : {});
  }

  async presignPart(
    key: string,
    uploadId: string,
    partNumber: number,
    options: PresignPartOptions = {},
  ): Promise<SignedRequest> {
    objectKey(key);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      throw new InvalidArgumentError(`partNumber must be an integer from 1 to ${MAX_PART_NUMBER} (got ${partNumber})`);
    }
    if (typeof uploadId !== 'string' || uploadId === '')
      throw new InvalidArgumentError('uploadId must be a non-empty string');
    const expiresInSec = urlExpirySec(options.expiresInSec);
    const now = new Date();
    const query = { partNumber: String(partNumber), uploadId };
    const url =
      options.size === undefined
        ? await this.presigner.presignedUrl('PUT', this.bucket, key, expiresInSec, query, now)
        : this.presignSized(key, checkSize(options.size), expiresInSec, now, query);
    return { url, method: 'PUT', headers: {}, expiresAt: new Date(now.getTime() + expiresInSec * 1000) };
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    objectKey(key);
    try {
      const parts = await this.client.listUploadParts(this.bucket, key, uploadId);
      return parts
        .map((p) => ({ partNumber: p.part, etag: p.etag, size: p.size }))
        .sort((a, b) => a.partNumber - b.partNumber);
    } catch (error) {
      throw translateS3Error(error, { key, uploadId });
    }
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<PutResult> {
    objectKey(key);
    if (!Array.isArray(parts) || parts.length === 0)
      throw new InvalidPartError('parts must list at least one uploaded part');
    parts.forEach((part, index) => {
      const previous = index === 0 ? 0 : (parts[index - 1]?.partNumber ?? 0);
      if (!Number.isInteger(part.partNumber) || part.partNumber <= previous) {
        throw new InvalidPartError(
          `parts must be in strictly ascending partNumber order (parts[${index}].partNumber = ${part.partNumber})`,
        );
      }
    });
    try {
      await this.client.completeMultipartUpload(
        this.bucket,
        key,
        uploadId,
        parts.map((p) => ({ part: p.partNumber, etag: String(p.etag).replace(/"/g, '') })),
      );
    } catch (error) {
      throw translateS3Error(error, { key, uploadId });
    }
    // The completion response's etag is unreliable across servers (Ceph may give ""); the size needs a HEAD anyway.
    const stat = await this.stat(key);
    if (!stat) throw new ObjectNotFoundError(key);
    return { ...(stat.etag ? { etag: stat.etag } : {}), size: stat.size };
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    objectKey(key);
    try {
      await this.client.abortMultipartUpload(this.bucket, key, uploadId);
    } catch (error) {
      if (s3ErrorCode(error) !== 'NoSuchUpload') throw error;
    }
  }
}
