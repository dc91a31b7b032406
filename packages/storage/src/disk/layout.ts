import { join } from 'node:path';

// On-disk layout under the store root:
//   data/<key>~obj          object bytes
//   data/<key>~meta.json    sidecar: content type, etag, and the inode it describes
//   uploads/<uploadId>/     multipart uploads in progress: upload.json, <n>.part, <n>.json
//   tmp/                    files being written; renamed into place when complete
// Key segments cannot contain '~', so object files never collide with the directories of longer keys
// ('a' is data/a~obj while 'a/b' lives in data/a/).
export const OBJECT_SUFFIX = '~obj';
export const META_SUFFIX = '~meta.json';

export class DiskLayout {
  readonly dataDir: string;
  readonly uploadsDir: string;
  readonly tmpDir: string;

  constructor(readonly root: string) {
    this.dataDir = join(root, 'data');
    this.uploadsDir = join(root, 'uploads');
    this.tmpDir = join(root, 'tmp');
  }

  objectPath(key: string): string {
    return join(this.dataDir, key + OBJECT_SUFFIX);
  }

  metaPath(key: string): string {
    return join(this.dataDir, key + META_SUFFIX);
  }

  uploadDir(uploadId: string): string {
    return join(this.uploadsDir, uploadId);
  }

  partPath(uploadId: string, partNumber: number): string {
    return join(this.uploadDir(uploadId), `${String(partNumber).padStart(5, '0')}.part`);
  }

  partMetaPath(uploadId: string, partNumber: number): string {
    return join(this.uploadDir(uploadId), `${String(partNumber).padStart(5, '0')}.json`);
  }
}
