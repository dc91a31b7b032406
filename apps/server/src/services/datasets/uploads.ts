import { randomUUID } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import {
  datasets,
  datasetVersions,
  uploads,
  type Dataset,
  type DatasetVersion,
  type Upload,
  type UploadFileEntry,
} from '@dapple/db';
import { ArchiveError, normaliseMemberPath } from '@dapple/datasets';
import {
  InvalidPartError,
  MAX_PART_NUMBER,
  UploadNotFoundError,
  type ObjectStore,
  type SignedRequest,
} from '@dapple/storage';
import { z } from 'zod';
import { badInput, conflict, notFound } from '../errors.ts';
import type { JobSender } from '../job-sender.ts';
import type { DatasetConfig } from './config.ts';
import { datasetKeys, newDatasetInput, type DatasetService } from './datasets.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import { parseInput } from '../validation.ts';
import { mapLimited } from '../map-limited.ts';

const ARCHIVE_NAME = /\.(zip|tar|tar\.gz|tgz)$/i;
/** `datasets/<datasetId>/uploads/<uploadId>/<fileIndex>`: the keys upload URLs are signed for. */
const UPLOAD_FILE_KEY = /^datasets\/[0-9a-f-]{36}\/uploads\/([0-9a-f-]{36})\/\d+$/;

const fileInput = z.object({
  path: z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters'),
  size: z.number().int('must be a whole number of bytes').min(0, 'must not be negative'),
  contentType: z
    .string()
    .trim()
    .max(200, 'must be at most 200 characters')
    .regex(/^[\w.+-]+\/[\w.+-]+$|^$/, 'must be a MIME type like image/png'),
  /** A tar or stored zip the client packed many files into (see UploadFileEntry.pack). */
  pack: z.boolean().nullish(),
});
const createInput = z
  .object({
    /** The dataset the upload adds a version to… */
    datasetId: z.uuid('must be a valid dataset id').nullish(),
    /** …or a new dataset, created with the upload (one round trip instead of createDataset + createUpload). */
    dataset: newDatasetInput.nullish(),
    files: z.array(fileInput).min(1, 'must list at least one file'),
  })
  .superRefine((input, ctx) => {
    if (!input.datasetId === !input.dataset)
      ctx.addIssue({
        code: 'custom',
        path: ['datasetId'],
        message: input.datasetId
          ? 'give either datasetId (an existing dataset) or dataset (a new one), not both'
          : 'give datasetId (an existing dataset) or dataset (a new one to create)',
      });
  });

export interface UploadPartTarget extends SignedRequest {
  partNumber: number;
  /** Exact byte length this part must have. */
  size: number;
}

/** What arrived so far for one file: `received` when the whole file is there. */
export interface UploadFileProgress {
  received: boolean;
  receivedParts: number[];
}

export interface CompletedUpload {
  upload: Upload;
  version: DatasetVersion;
}

/**
 * The browser upload protocol: createUpload hands out per-file URLs (one PUT, or S3 multipart parts),
 * `progress` tells a resuming client what arrived, completeUpload verifies every object and makes the
 * next dataset version, which the dataset.prepare job turns into shards.
 */
export class UploadService {
  constructor(
    private readonly deps: ServiceDeps & { store: ObjectStore; jobs: JobSender; config: DatasetConfig },
    private readonly datasets: DatasetService,
  ) {}

  /**
   * Declares an upload into the dataset `datasetId`, or into a new dataset (`dataset`: its fields, checked like
   * createDataset's) that is created with it, in one transaction: a declaration that is refused leaves no dataset.
   */
  async create(meta: RequestMeta, input: unknown): Promise<Upload> {
    const { datasetId, dataset: fresh, files } = parseInput(createInput, input);
    let dataset: Pick<Dataset, 'id'>;
    let createdBy: string | null = meta.viewer?.user.id ?? null;
    if (fresh) {
      createdBy = (await this.datasets.requireCreator(meta, fresh.teamId)).userId;
      dataset = { id: randomUUID() };
    } else dataset = await this.datasets.authorized(meta, datasetId!, 'member');
    const limits = this.deps.config.upload;
    if (files.length > limits.maxFilesPerUpload) {
      throw badInput(
        'files',
        `files: ${files.length} files is over the limit of ${limits.maxFilesPerUpload} per upload`,
      );
    }
    const seen = new Map<string, number>();
    let totalBytes = 0;
    const checked = files.map((file, index) => {
      const field = `files.${index}`;
      let path: string;
      try {
        path = normaliseMemberPath(file.path);
      } catch (err) {
        if (err instanceof ArchiveError) throw badInput(`${field}.path`, `${field}.path: ${err.message}`);
        throw err;
      }
      const earlier = seen.get(path);
      if (earlier !== undefined)
        throw badInput(`${field}.path`, `${field}.path: "${path}" is also files.${earlier}.path`);
      seen.set(path, index);
      const archive = ARCHIVE_NAME.test(path);
      if (file.pack && !/\.(tar|zip)$/i.test(path))
        throw badInput(`${field}.pack`, `${field}.pack: a packed file must be a .tar or a .zip (got "${path}")`);
      const max = archive ? limits.maxArchiveBytes : limits.maxFileBytes;
      if (file.size > max) {
        throw badInput(
          `${field}.size`,
          `${field}.size: "${path}" has ${file.size} bytes, over the limit of ${max} bytes per ${archive ? 'archive' : 'file'}`,
        );
      }
      totalBytes += file.size;
      return {
        path,
        size: file.size,
        contentType: file.contentType || 'application/octet-stream',
        ...(file.pack ? { pack: true } : {}),
      };
    });
    if (totalBytes > limits.maxUploadBytes) {
      throw badInput(
        'files',
        `files: ${totalBytes} bytes in total is over the limit of ${limits.maxUploadBytes} bytes per upload`,
      );
    }

    const id = randomUUID();
    const entries: UploadFileEntry[] = [];
    // A presigned S3 PUT cannot be revoked: it would stay valid until it expires, after the upload completed or was
    // aborted. A multipart upload's part URLs die with its UploadId (complete or abort), so on S3 a small file is a
    // multipart upload of one part (S3 takes a last part of any size). The disk store refuses writes itself
    // (refuseWrite), so there a small file stays one plain PUT.
    const singlePartMultipart = this.deps.store.kind === 's3';
    try {
      await mapLimited([...checked.entries()], STORE_CONCURRENCY, async ([index, file]) => {
        const key = datasetKeys.uploadFile(dataset.id, id, index);
        if (file.size <= limits.multipartThresholdBytes) {
          const multipartUploadId = singlePartMultipart
            ? await this.deps.store.createMultipartUpload(key, { contentType: file.contentType })
            : null;
          entries[index] = { ...file, key, multipartUploadId, partSize: null, partCount: 1 };
          return;
        }
        const partSize = Math.max(limits.partBytes, Math.ceil(file.size / MAX_PART_NUMBER));
        const multipartUploadId = await this.deps.store.createMultipartUpload(key, { contentType: file.contentType });
        entries[index] = { ...file, key, multipartUploadId, partSize, partCount: Math.ceil(file.size / partSize) };
      });
      return await this.deps.db.transaction(async (tx) => {
        if (fresh) await this.datasets.insert(tx, { ...fresh, id: dataset.id }, createdBy!, 'dataset.name');
        const [upload] = await tx
          .insert(uploads)
          .values({
            id,
            datasetId: dataset.id,
            files: entries,
            totalBytes,
            createdBy,
            expiresAt: new Date(this.deps.now().getTime() + limits.uploadTtlMs),
          })
          .returning();
        if (!upload) throw new Error('insert into uploads returned no row');
        return upload;
      });
    } catch (err) {
      await this.abortMultiparts(entries);
      throw err;
    }
  }

  /** Members and above see an upload of their team's dataset (its URLs let them write to it). */
  async authorized(meta: RequestMeta, uploadId: string): Promise<{ upload: Upload; dataset: Dataset }> {
    if (!z.uuid().safeParse(uploadId).success) throw notFound('Upload');
    const [row] = await this.deps.db
      .select({ upload: uploads, dataset: datasets })
      .from(uploads)
      .innerJoin(datasets, eq(datasets.id, uploads.datasetId))
      .where(eq(uploads.id, uploadId));
    if (!row) throw notFound('Upload');
    await this.datasets.authorized(meta, row.dataset.id, 'member');
    return row;
  }

  /**
   * What of each file is stored, by file index: one listing of the upload's prefix (not a request per file),
   * then ListParts for the multipart files that are not assembled.
   */
  async progress(upload: Upload): Promise<UploadFileProgress[]> {
    const all = (file: UploadFileEntry) => Array.from({ length: file.partCount }, (_, i) => i + 1);
    if (upload.status === 'completed')
      return upload.files.map((file) => ({ received: true, receivedParts: all(file) }));
    const sizes = await this.storedSizes(upload);
    return Promise.all(
      upload.files.map(async (file): Promise<UploadFileProgress> => {
        if (sizes.get(file.key) === file.size) return { received: true, receivedParts: all(file) };
        if (!file.multipartUploadId || upload.status !== 'open') return { received: false, receivedParts: [] };
        const parts = await this.deps.store.listParts(file.key, file.multipartUploadId);
        const receivedParts = parts.filter((p) => p.size === partLength(file, p.partNumber)).map((p) => p.partNumber);
        return { received: false, receivedParts };
      }),
    );
  }

  /** Sizes of the objects stored under the upload's prefix, by key. */
  private async storedSizes(upload: Upload): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    for await (const object of this.deps.store.list(datasetKeys.upload(upload.datasetId, upload.id)))
      sizes.set(object.key, object.size);
    return sizes;
  }

  /** Fresh URLs for parts of an open upload; for a single-PUT file, part 1 is the whole file. */
  async partTargets(upload: Upload, fileIndex: number, partNumbers?: readonly number[]): Promise<UploadPartTarget[]> {
    if (upload.status !== 'open')
      throw conflict(`This upload is ${upload.status}; start a new upload to send more files`);
    const file = upload.files[fileIndex];
    if (!file)
      throw badInput(
        'fileIndex',
        `fileIndex: ${fileIndex} is not a file of this upload (it has ${upload.files.length})`,
      );
    const numbers = partNumbers ?? Array.from({ length: file.partCount }, (_, i) => i + 1);
    for (const n of numbers) {
      if (!Number.isInteger(n) || n < 1 || n > file.partCount) {
        throw badInput('partNumbers', `partNumbers: ${n} is not a part of this file (parts 1–${file.partCount})`);
      }
    }
    return Promise.all(
      numbers.map(async (partNumber) => {
        const size = partLength(file, partNumber);
        const expiresInSec = this.deps.config.upload.urlExpirySec;
        const request = file.multipartUploadId
          ? await this.deps.store.presignPart(file.key, file.multipartUploadId, partNumber, { size, expiresInSec })
          : await this.deps.store.presignPut(file.key, { size, contentType: file.contentType, expiresInSec });
        return { ...request, partNumber, size };
      }),
    );
  }

  /**
   * Why a signed PUT to `key` must be refused (null: let it through). Upload URLs die with their upload: once it
   * is completed (its files verified and handed to dataset.prepare), aborted or expired, nothing may change them.
   */
  async refuseWrite(key: string): Promise<string | null> {
    const uploadId = UPLOAD_FILE_KEY.exec(key)?.[1];
    if (!uploadId) return null; // not an upload file (checkpoints, sample grids): the signature is the grant
    const [row] = await this.deps.db
      .select({ status: uploads.status, expiresAt: uploads.expiresAt })
      .from(uploads)
      .where(eq(uploads.id, uploadId));
    if (!row) return 'this upload no longer exists; start a new upload';
    if (row.status !== 'open') return `this upload is ${row.status}; its URLs no longer accept writes`;
    if (row.expiresAt <= this.deps.now()) return 'this upload has expired; start a new upload';
    return null;
  }

  async partUrls(
    meta: RequestMeta,
    uploadId: string,
    fileIndex: number,
    partNumbers: readonly number[],
  ): Promise<UploadPartTarget[]> {
    const { upload } = await this.authorized(meta, uploadId);
    return this.partTargets(upload, fileIndex, partNumbers);
  }

  /**
   * Verifies that every file arrived whole, then creates the next dataset version (status preparing) and
   * queues dataset.prepare. Multipart files are assembled by the job from exactly the parts verified here
   * (their etags are recorded), so this request stays short whatever the size. The upload row is locked
   * meanwhile: a second completeUpload waits, then gets CONFLICT.
   */
  async complete(meta: RequestMeta, uploadId: string): Promise<CompletedUpload> {
    await this.authorized(meta, uploadId);
    const result = await this.deps.db.transaction(async (tx) => {
      const [upload] = await tx.select().from(uploads).where(eq(uploads.id, uploadId)).for('update');
      if (!upload) throw notFound('Upload');
      if (upload.status !== 'open') throw conflict(`This upload is already ${upload.status}`);
      if (upload.expiresAt <= this.deps.now()) throw conflict('This upload has expired; start a new upload');
      const sizes = await this.storedSizes(upload);
      const files = await mapLimited(upload.files, STORE_CONCURRENCY, (file, index) =>
        this.verify(file, index, sizes.get(file.key)),
      );

      await tx.select({ id: datasets.id }).from(datasets).where(eq(datasets.id, upload.datasetId)).for('update');
      const [{ next } = { next: 1 }] = await tx
        .select({ next: sql<number>`coalesce(max(${datasetVersions.number}), 0)::int + 1` })
        .from(datasetVersions)
        .where(eq(datasetVersions.datasetId, upload.datasetId));
      const [version] = await tx
        .insert(datasetVersions)
        .values({
          datasetId: upload.datasetId,
          number: next,
          status: 'preparing',
          fileCount: upload.files.length,
          createdBy: meta.viewer?.user.id ?? null,
        })
        .returning();
      if (!version) throw new Error('insert into dataset_versions returned no row');
      const [completed] = await tx
        .update(uploads)
        .set({ status: 'completed', versionId: version.id, completedAt: this.deps.now(), files })
        .where(eq(uploads.id, upload.id))
        .returning();
      return { upload: completed!, version };
    });
    try {
      await this.deps.jobs.send('dataset.prepare', { versionId: result.version.id });
    } catch (err) {
      meta.log.error({ err, versionId: result.version.id }, 'could not queue dataset.prepare');
      const [failed] = await this.deps.db
        .update(datasetVersions)
        .set({ status: 'failed', error: 'The preparation job could not be queued; upload the files again' })
        .where(eq(datasetVersions.id, result.version.id))
        .returning();
      return { upload: result.upload, version: failed ?? result.version };
    }
    return result;
  }

  /**
   * Assembles the multipart files of a completed upload from the parts completeUpload verified (dataset.prepare
   * calls this). Idempotent: a file already assembled with its declared size is left alone.
   */
  async assemble(upload: Upload): Promise<void> {
    for (const [index, file] of upload.files.entries()) {
      if (!file.multipartUploadId) continue;
      const existing = await this.deps.store.stat(file.key);
      if (existing?.size === file.size) continue;
      const what = `"${file.path}" (files.${index})`;
      if (!file.parts) throw new UploadAssemblyError(`${what} has no verified parts recorded`);
      try {
        await this.deps.store.completeMultipartUpload(file.key, file.multipartUploadId, file.parts);
      } catch (err) {
        // Aborted meanwhile, or a part replaced after completeUpload (its etag no longer matches).
        if (err instanceof UploadNotFoundError || err instanceof InvalidPartError)
          throw new UploadAssemblyError(`${what}: ${err.message}`, err);
        throw err;
      }
      const stat = await this.deps.store.stat(file.key);
      if (stat?.size !== file.size)
        throw new UploadAssemblyError(`${what} assembled to ${stat?.size ?? 0} bytes, not the declared ${file.size}`);
    }
  }

  /** Aborts open uploads whose expiry has passed (a batch at a time); returns how many. */
  async expireStale(batch = 100): Promise<number> {
    const stale = await this.deps.db
      .select()
      .from(uploads)
      .where(and(eq(uploads.status, 'open'), lt(uploads.expiresAt, this.deps.now())))
      .limit(batch);
    let expired = 0;
    for (const upload of stale) if (await this.end(upload)) expired++;
    return expired;
  }

  /** Marks an open upload aborted (false when it no longer is open), then removes what it stored. */
  private async end(upload: Upload): Promise<Upload | null> {
    const [aborted] = await this.deps.db
      .update(uploads)
      .set({ status: 'aborted' })
      .where(and(eq(uploads.id, upload.id), eq(uploads.status, 'open')))
      .returning();
    if (!aborted) return null;
    await this.abortMultiparts(upload.files);
    await this.deps.store.deletePrefix(datasetKeys.upload(upload.datasetId, upload.id));
    return aborted;
  }

  /** Ends an open upload: aborts its multipart uploads and deletes what arrived. */
  async abort(meta: RequestMeta, uploadId: string): Promise<Upload> {
    const { upload } = await this.authorized(meta, uploadId);
    const aborted = await this.end(upload);
    if (!aborted)
      throw conflict(`This upload is already ${upload.status === 'open' ? 'completed or aborted' : upload.status}`);
    return aborted;
  }

  /** The file entry as completed: present whole, or (multipart) every part present with its exact size. */
  private async verify(file: UploadFileEntry, index: number, storedSize: number | undefined): Promise<UploadFileEntry> {
    const field = `files.${index}`;
    if (storedSize !== undefined) {
      if (storedSize !== file.size) {
        throw badInput(
          field,
          `${field}: "${file.path}" arrived with ${storedSize} bytes, not the declared ${file.size}`,
        );
      }
      return file;
    }
    if (!file.multipartUploadId) throw badInput(field, `${field}: "${file.path}" has not been uploaded`);
    const parts = await this.deps.store.listParts(file.key, file.multipartUploadId);
    const byNumber = new Map(parts.map((p) => [p.partNumber, p]));
    const missing: number[] = [];
    for (let n = 1; n <= file.partCount; n++) {
      const part = byNumber.get(n);
      if (!part || part.size !== partLength(file, n)) missing.push(n);
    }
    if (missing.length > 0 && file.partSize === null)
      throw badInput(field, `${field}: "${file.path}" has not been uploaded`); // one part: the whole file
    if (missing.length > 0) {
      throw badInput(
        field,
        `${field}: "${file.path}" is missing part${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${file.partCount}`,
      );
    }
    const verified = parts
      .filter((p) => p.partNumber <= file.partCount)
      .map(({ partNumber, etag }) => ({ partNumber, etag }));
    if (file.partSize !== null) return { ...file, parts: verified };
    // A small file sent as one part (S3): assembled now, so its URL dies with this completeUpload. It is one part
    // and no copy, unlike large files, which dataset.prepare assembles so this request stays short.
    try {
      await this.deps.store.completeMultipartUpload(file.key, file.multipartUploadId, verified);
    } catch (err) {
      if (err instanceof UploadNotFoundError || err instanceof InvalidPartError)
        throw badInput(field, `${field}: "${file.path}" changed while the upload was completing; send it again`);
      throw err;
    }
    return { ...file, parts: verified };
  }

  private async abortMultiparts(files: UploadFileEntry[]): Promise<void> {
    await mapLimited(files, STORE_CONCURRENCY, async (file) => {
      if (file?.multipartUploadId)
        await this.deps.store.abortMultipartUpload(file.key, file.multipartUploadId).catch(() => undefined);
    });
  }
}

/** Store requests one upload makes at once (a multipart upload per file on S3: many files, many requests). */
const STORE_CONCURRENCY = 16;

/** A completed upload whose parts cannot be assembled as verified: retrying will not help. */
export class UploadAssemblyError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'UploadAssemblyError';
  }
}

/** Byte length of part `n` (1-based) of a file; a single-PUT file is one part of its whole size. */
export function partLength(file: UploadFileEntry, n: number): number {
  if (!file.partSize) return file.size;
  return Math.min(file.partSize, file.size - (n - 1) * file.partSize);
}
