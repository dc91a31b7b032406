import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat as statFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { InvalidArgumentError, InvalidPartError, UploadNotFoundError } from '../errors.ts';
import {
  MAX_PART_NUMBER,
  MIN_PART_SIZE,
  type CompletedPart,
  type ObjectBody,
  type PutResult,
  type UploadedPart,
} from '../object-store.ts';
import { sizedBody } from '../sized-body.ts';
import { writeSmallFileAtomically, writeTemp, type WrittenTemp } from './atomic-file.ts';
import type { DiskLayout } from './layout.ts';

interface UploadRecord {
  key: string;
  contentType?: string;
  createdAt: string;
}

interface PartRecord {
  ino: number;
  etag: string;
}

type Commit = (key: string, temp: WrittenTemp, meta: { etag: string; contentType?: string }) => Promise<void>;

const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** Multipart uploads for DiskStore, with S3's rules: parts 1..10000, all but the last >= 5 MiB, etags checked. */
export class DiskUploads {
  constructor(
    private readonly layout: DiskLayout,
    private readonly commit: Commit,
  ) {}

  static checkPartNumber(partNumber: number): number {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      throw new InvalidArgumentError(`partNumber must be an integer from 1 to ${MAX_PART_NUMBER} (got ${partNumber})`);
    }
    return partNumber;
  }

  async create(key: string, contentType: string | undefined): Promise<string> {
    const uploadId = randomBytes(16).toString('hex');
    await mkdir(this.layout.uploadDir(uploadId), { recursive: true });
    const record: UploadRecord = { key, createdAt: new Date().toISOString(), ...(contentType ? { contentType } : {}) };
    await writeSmallFileAtomically(this.layout.tmpDir, this.recordPath(uploadId), JSON.stringify(record));
    return uploadId;
  }

  private recordPath(uploadId: string, dir = this.layout.uploadDir(uploadId)): string {
    return `${dir}/upload.json`;
  }

  /** The upload's record, or UploadNotFoundError; an id for another key counts as not found. */
  async requireUpload(key: string, uploadId: string, dir?: string): Promise<UploadRecord> {
    if (typeof uploadId !== 'string' || !UPLOAD_ID.test(uploadId)) throw new UploadNotFoundError(String(uploadId));
    let record: UploadRecord;
    try {
      record = JSON.parse(await readFile(this.recordPath(uploadId, dir), 'utf8')) as UploadRecord;
    } catch {
      throw new UploadNotFoundError(uploadId);
    }
    if (record.key !== key) throw new UploadNotFoundError(uploadId);
    return record;
  }

  async putPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: ObjectBody,
    size: number,
  ): Promise<UploadedPart> {
    DiskUploads.checkPartNumber(partNumber);
    await this.requireUpload(key, uploadId);
    const checked = sizedBody(body, size, { md5: true, what: `part ${partNumber}` });
    const temp = await writeTemp(this.layout.tmpDir, checked);
    const etag = checked.md5Hex();
    try {
      // Plain renames, never recreating the directory: if the upload was completed or aborted meanwhile,
      // this must fail. The sidecar names the part file's inode, so when the same part is uploaded twice
      // at once, a sidecar that belongs to the losing copy is detected (and the etag recomputed) by readParts.
      await rename(temp.path, this.layout.partPath(uploadId, partNumber));
      const record: PartRecord = { ino: temp.ino, etag };
      const metaPath = this.layout.partMetaPath(uploadId, partNumber);
      await writeSmallFileAtomically(this.layout.tmpDir, metaPath, JSON.stringify(record), { createParent: false });
    } catch (error) {
      await rm(temp.path, { force: true });
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UploadNotFoundError(uploadId);
      throw error;
    }
    return { partNumber, etag, size: temp.size };
  }

  private async readParts(
    uploadId: string,
    dir = this.layout.uploadDir(uploadId),
  ): Promise<Map<number, UploadedPart & { path: string }>> {
    const parts = new Map<number, UploadedPart & { path: string }>();
    for (const name of await readdir(dir)) {
      const match = /^(\d{5})\.part$/.exec(name);
      if (!match) continue;
      const partNumber = Number(match[1]);
      const path = `${dir}/${name}`;
      const info = await statFile(path);
      let record: PartRecord | null;
      try {
        record = JSON.parse(await readFile(path.replace(/\.part$/, '.json'), 'utf8')) as PartRecord;
      } catch {
        record = null;
      }
      const etag = record && record.ino === info.ino ? record.etag : await md5OfFile(path);
      parts.set(partNumber, { partNumber, etag, size: info.size, path });
    }
    return parts;
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    await this.requireUpload(key, uploadId);
    const parts = await this.readParts(uploadId);
    return [...parts.values()]
      .sort((a, b) => a.partNumber - b.partNumber)
      .map(({ partNumber, etag, size }) => ({ partNumber, etag, size }));
  }

  async complete(key: string, uploadId: string, requested: CompletedPart[]): Promise<PutResult> {
    await this.requireUpload(key, uploadId);
    // Claim the upload by renaming its directory: a second complete, or a late part, now finds no upload.
    const claimed = `${this.layout.uploadDir(uploadId)}.completing-${randomBytes(4).toString('hex')}`;
    try {
      await rename(this.layout.uploadDir(uploadId), claimed);
    } catch {
      throw new UploadNotFoundError(uploadId);
    }
    let record: UploadRecord;
    let chosen: (UploadedPart & { path: string })[];
    try {
      record = await this.requireUpload(key, uploadId, claimed);
      chosen = checkCompletion(requested, await this.readParts(uploadId, claimed));
    } catch (error) {
      await rename(claimed, this.layout.uploadDir(uploadId)); // hand the upload back so the client can fix and retry
      throw error;
    }
    // S3's multipart etag: md5 of the concatenated binary part md5s, then "-<part count>".
    const etag =
      createHash('md5')
        .update(Buffer.concat(chosen.map((part) => Buffer.from(part.etag, 'hex'))))
        .digest('hex') + `-${chosen.length}`;
    const size = chosen.reduce((sum, part) => sum + part.size, 0);
    const concatenated = Readable.from(
      (async function* () {
        for (const part of chosen) yield* createReadStream(part.path, { highWaterMark: 1024 * 1024 });
      })(),
    );
    const checked = sizedBody(concatenated, size);
    const temp = await writeTemp(this.layout.tmpDir, checked);
    await this.commit(key, temp, { etag, ...(record.contentType ? { contentType: record.contentType } : {}) });
    await rm(claimed, { recursive: true, force: true });
    return { etag, size };
  }

  async abort(key: string, uploadId: string): Promise<void> {
    try {
      await this.requireUpload(key, uploadId);
    } catch (error) {
      if (error instanceof UploadNotFoundError) return;
      throw error;
    }
    await rm(this.layout.uploadDir(uploadId), { recursive: true, force: true });
  }
}

function checkCompletion(requested: CompletedPart[], stored: Map<number, UploadedPart & { path: string }>) {
  if (!Array.isArray(requested) || requested.length === 0) {
    throw new InvalidPartError('parts must list at least one uploaded part');
  }
  const chosen: (UploadedPart & { path: string })[] = [];
  let previous = 0;
  for (const [index, part] of requested.entries()) {
    if (!Number.isInteger(part.partNumber) || part.partNumber <= previous) {
      throw new InvalidPartError(
        `parts must be in strictly ascending partNumber order (parts[${index}].partNumber = ${part.partNumber})`,
      );
    }
    previous = part.partNumber;
    const found = stored.get(part.partNumber);
    const etag = String(part.etag).replace(/"/g, '');
    if (!found) throw new InvalidPartError(`part ${part.partNumber} was never uploaded`);
    if (found.etag !== etag) {
      throw new InvalidPartError(
        `part ${part.partNumber} has etag ${found.etag}, not ${etag} (it was uploaded again since)`,
      );
    }
    chosen.push(found);
  }
  for (const part of chosen.slice(0, -1)) {
    if (part.size < MIN_PART_SIZE) {
      throw new InvalidPartError(
        `part ${part.partNumber} has ${part.size} bytes; every part but the last needs at least ${MIN_PART_SIZE}`,
      );
    }
  }
  return chosen;
}

async function md5OfFile(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
