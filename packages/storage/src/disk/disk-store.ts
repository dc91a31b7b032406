import { open, readdir, readFile, rm, rmdir, stat as statFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { checkContentType } from '../content-type.ts';
import { InvalidArgumentError, InvalidRangeError, ObjectNotFoundError } from '../errors.ts';
import { deletionPrefix, listPrefix, objectKey } from '../object-key.ts';
import type {
  ByteRange,
  CompletedPart,
  CreateMultipartOptions,
  ListedObject,
  ListOptions,
  ObjectBody,
  ObjectStat,
  ObjectStore,
  PresignGetOptions,
  PresignPartOptions,
  PresignPutOptions,
  PutOptions,
  PutResult,
  SignedRequest,
  UploadedPart,
} from '../object-store.ts';
import { checkSize, sizedBody } from '../sized-body.ts';
import { urlExpirySec } from '../url-expiry.ts';
import { renameIntoPlace, writeSmallFileAtomically, writeTemp } from './atomic-file.ts';
import { DiskUploads } from './disk-uploads.ts';
import { DiskLayout, OBJECT_SUFFIX } from './layout.ts';
import { signedQuery, verifySignedQuery, type UrlGrant } from './url-signature.ts';

export interface DiskStoreConfig {
  /** Directory that holds everything (created on demand), e.g. `.dapple/objects`. */
  root: string;
  /** Base URL under which the hub serves `createSignedObjectHandler` at `/objects/`, e.g. `http://localhost:4000`. */
  publicBaseUrl: string;
  /** HMAC-SHA256 key for upload/download URLs; at least 32 characters. */
  signingSecret: string;
  /** Milliseconds since the epoch; injectable so tests can sign URLs that are already expired. */
  now?: () => number;
}

interface Sidecar {
  ino: number;
  etag: string;
  contentType?: string;
}

/** An open object: one file handle, so the stat and the bytes always belong to the same version. */
export interface OpenedObject {
  stat: ObjectStat;
  /** Inclusive byte positions actually served (end = start - 1 for an empty object). */
  start: number;
  end: number;
  body: Readable;
}

export class DiskStore implements ObjectStore {
  readonly kind = 'disk' as const;
  readonly layout: DiskLayout;
  private readonly baseUrl: string;
  private readonly secret: string;
  private readonly now: () => number;
  private readonly uploads: DiskUploads;

  constructor(config: DiskStoreConfig) {
    if (!config.root) throw new InvalidArgumentError('DiskStore root must be a directory path');
    if (!config.signingSecret || config.signingSecret.length < 32) {
      throw new InvalidArgumentError('DiskStore signingSecret must be at least 32 characters');
    }
    let base: URL;
    try {
      base = new URL(config.publicBaseUrl);
    } catch {
      throw new InvalidArgumentError(`DiskStore publicBaseUrl '${config.publicBaseUrl}' is not an absolute URL`);
    }
    this.baseUrl = base.toString().replace(/\/+$/, '');
    this.layout = new DiskLayout(config.root);
    this.secret = config.signingSecret;
    this.now = config.now ?? Date.now;
    this.uploads = new DiskUploads(this.layout, (key, temp, sidecar) => this.commit(key, temp, sidecar));
  }

  // ---- objects ----

  async put(key: string, body: ObjectBody, options: PutOptions): Promise<PutResult> {
    objectKey(key);
    const contentType = checkContentType(options.contentType);
    const checked = sizedBody(body, checkSize(options.size), { md5: true });
    const temp = await writeTemp(this.layout.tmpDir, checked);
    const etag = checked.md5Hex();
    await this.commit(key, temp, { etag, ...(contentType ? { contentType } : {}) });
    return { etag, size: temp.size };
  }

  /** Moves a finished temp file into place: the sidecar first, then the bytes (the sidecar names the inode it describes). */
  private async commit(key: string, temp: { path: string; ino: number }, meta: Omit<Sidecar, 'ino'>): Promise<void> {
    try {
      const sidecar: Sidecar = { ino: temp.ino, ...meta };
      await writeSmallFileAtomically(this.layout.tmpDir, this.layout.metaPath(key), JSON.stringify(sidecar));
      await renameIntoPlace(temp.path, this.layout.objectPath(key));
    } catch (error) {
      await rm(temp.path, { force: true });
      throw error;
    }
  }

  async open(key: string, range?: ByteRange): Promise<OpenedObject> {
    objectKey(key);
    let handle: FileHandle;
    try {
      handle = await open(this.layout.objectPath(key), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFoundError(key);
      throw error;
    }
    try {
      const info = await handle.stat();
      const stat = await this.describe(key, info.size, info.ino, info.mtime);
      const { start, end } = resolveRange(range, info.size);
      if (end < start) {
        // createReadStream cannot express "zero bytes" (end < start): close the file, serve an empty stream.
        await handle.close();
        return { stat, start, end, body: new PassThrough().end() };
      }
      const body = handle.createReadStream({ start, end, autoClose: true, highWaterMark: 1024 * 1024 });
      return { stat, start, end, body };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    return (await this.open(key, range)).body;
  }

  async stat(key: string): Promise<ObjectStat | null> {
    objectKey(key);
    try {
      const info = await statFile(this.layout.objectPath(key));
      return await this.describe(key, info.size, info.ino, info.mtime);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  private async describe(key: string, size: number, ino: number, mtime: Date): Promise<ObjectStat> {
    const stat: ObjectStat = { size, lastModified: mtime };
    const sidecar = await this.readSidecar(key);
    // A sidecar for another inode belongs to an older or newer version of the key: ignore it.
    if (sidecar && sidecar.ino === ino) {
      stat.etag = sidecar.etag;
      if (sidecar.contentType) stat.contentType = sidecar.contentType;
    }
    return stat;
  }

  private async readSidecar(key: string): Promise<Sidecar | null> {
    try {
      return JSON.parse(await readFile(this.layout.metaPath(key), 'utf8')) as Sidecar;
    } catch {
      return null;
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListedObject> {
    listPrefix(prefix);
    const startAfter = options.startAfter ?? '';
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    for await (const item of this.walk(join(this.layout.dataDir, dirKey), dirKey, prefix)) {
      if (item.key > startAfter) yield item;
    }
  }

  // Yields in ascending key order: a directory sorts as its name plus '/', a file as its key segment,
  // which is the order of the full keys (S3's order) since keys under 'a/' all start with 'a/'.
  private async *walk(dir: string, keyPrefix: string, prefix: string): AsyncGenerator<ListedObject> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
        return;
      throw error;
    }
    const items: { sortKey: string; name: string; isDir: boolean }[] = [];
    for (const entry of entries) {
      if (entry.isDirectory()) {
        const dirKey = keyPrefix + entry.name + '/';
        if (dirKey.startsWith(prefix) || prefix.startsWith(dirKey))
          items.push({ sortKey: dirKey, name: entry.name, isDir: true });
      } else if (entry.name.endsWith(OBJECT_SUFFIX)) {
        const key = keyPrefix + entry.name.slice(0, -OBJECT_SUFFIX.length);
        if (key.startsWith(prefix)) items.push({ sortKey: key, name: entry.name, isDir: false });
      }
    }
    items.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const item of items) {
      if (item.isDir) {
        yield* this.walk(join(dir, item.name), item.sortKey, prefix);
        continue;
      }
      try {
        const info = await statFile(join(dir, item.name));
        yield { key: item.sortKey, size: info.size, lastModified: info.mtime };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // deleted while listing
      }
    }
  }

  async delete(key: string): Promise<void> {
    objectKey(key);
    await rm(this.layout.objectPath(key), { force: true });
    await rm(this.layout.metaPath(key), { force: true });
    await this.pruneEmptyDirs(dirname(this.layout.objectPath(key)));
  }

  async deletePrefix(prefix: string): Promise<number> {
    deletionPrefix(prefix);
    const keys: string[] = [];
    for await (const item of this.list(prefix)) keys.push(item.key);
    for (const key of keys) await this.delete(key);
    return keys.length;
  }

  private async pruneEmptyDirs(dir: string): Promise<void> {
    while (dir.startsWith(this.layout.dataDir + '/')) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): stop climbing
      }
      dir = dirname(dir);
    }
  }

  async copy(src: string, dst: string): Promise<void> {
    objectKey(dst);
    const source = await this.open(src);
    const checked = sizedBody(source.body, source.stat.size, { md5: true });
    const temp = await writeTemp(this.layout.tmpDir, checked);
    await this.commit(dst, temp, {
      etag: checked.md5Hex(),
      ...(source.stat.contentType ? { contentType: source.stat.contentType } : {}),
    });
  }

  // ---- signed URLs (served by createSignedObjectHandler) ----

  private signedUrl(grant: UrlGrant): string {
    return `${this.baseUrl}/objects/${grant.key}?${signedQuery(this.secret, grant).toString()}`;
  }

  private expiry(expiresInSec: number | undefined): number {
    return Math.floor(this.now() / 1000) + urlExpirySec(expiresInSec);
  }

  async presignPut(key: string, options: PresignPutOptions = {}): Promise<SignedRequest> {
    objectKey(key);
    const contentType = checkContentType(options.contentType);
    const grant: UrlGrant = { method: 'PUT', key, expires: this.expiry(options.expiresInSec) };
    if (options.size !== undefined) grant.size = checkSize(options.size);
    if (contentType) grant.contentType = contentType;
    return {
      url: this.signedUrl(grant),
      method: 'PUT',
      headers: contentType ? { 'Content-Type': contentType } : {},
      expiresAt: new Date(grant.expires * 1000),
    };
  }

  async presignGet(key: string, options: PresignGetOptions = {}): Promise<SignedRequest> {
    objectKey(key);
    const grant: UrlGrant = { method: 'GET', key, expires: this.expiry(options.expiresInSec) };
    return { url: this.signedUrl(grant), method: 'GET', headers: {}, expiresAt: new Date(grant.expires * 1000) };
  }

  /** Checks a request to `/objects/<key>`; throws SignatureError when tampered with or expired. */
  verifySignedRequest(method: 'GET' | 'PUT', key: string, query: URLSearchParams): UrlGrant {
    return verifySignedQuery(this.secret, method, key, query, this.now());
  }

  // ---- multipart ----

  createMultipartUpload(key: string, options: CreateMultipartOptions = {}): Promise<string> {
    return this.uploads.create(objectKey(key), checkContentType(options.contentType));
  }

  /** Stores one part (what a PUT to a presigned part URL does). A part uploaded again replaces the earlier one. */
  uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: ObjectBody,
    options: { size: number },
  ): Promise<UploadedPart> {
    return this.uploads.putPart(objectKey(key), uploadId, partNumber, body, checkSize(options.size));
  }

  async presignPart(
    key: string,
    uploadId: string,
    partNumber: number,
    options: PresignPartOptions = {},
  ): Promise<SignedRequest> {
    objectKey(key);
    await this.uploads.requireUpload(key, uploadId);
    DiskUploads.checkPartNumber(partNumber);
    const grant: UrlGrant = { method: 'PUT', key, expires: this.expiry(options.expiresInSec), uploadId, partNumber };
    if (options.size !== undefined) grant.size = checkSize(options.size);
    return { url: this.signedUrl(grant), method: 'PUT', headers: {}, expiresAt: new Date(grant.expires * 1000) };
  }

  listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    return this.uploads.listParts(objectKey(key), uploadId);
  }

  completeMultipartUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<PutResult> {
    return this.uploads.complete(objectKey(key), uploadId, parts);
  }

  abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    return this.uploads.abort(objectKey(key), uploadId);
  }

  /**
   * Housekeeping for the hub to run now and then: removes multipart uploads and temp files older than
   * `olderThanMs` (default 7 days), i.e. abandoned uploads and leftovers of a crash. Returns what it removed.
   */
  async removeStale(olderThanMs = 7 * 24 * 3600_000): Promise<{ uploads: number; tempFiles: number }> {
    const cutoff = this.now() - olderThanMs;
    const removeOld = async (dir: string): Promise<number> => {
      let removed = 0;
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return 0;
      }
      for (const name of names) {
        const path = join(dir, name);
        try {
          if ((await statFile(path)).mtimeMs < cutoff) {
            await rm(path, { recursive: true, force: true });
            removed++;
          }
        } catch {
          // gone meanwhile
        }
      }
      return removed;
    };
    return { uploads: await removeOld(this.layout.uploadsDir), tempFiles: await removeOld(this.layout.tmpDir) };
  }
}

function resolveRange(range: ByteRange | undefined, size: number): { start: number; end: number } {
  if (!range) return { start: 0, end: size - 1 };
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0)
    throw new InvalidRangeError(`range.start must be a non-negative integer (got ${start})`);
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw new InvalidRangeError(`range.end must be an integer >= range.start (got ${end} for start ${start})`);
  }
  if (start >= size) throw new InvalidRangeError(`range starts at byte ${start} but the object has ${size} bytes`);
  return { start, end: Math.min(end ?? size - 1, size - 1) };
}
