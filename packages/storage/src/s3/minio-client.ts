import { Client, type ClientOptions } from 'minio';

/** The minio client with its protected ListParts call made public (needed to resume browser uploads). */
export class MinioClient extends Client {
  constructor(options: ClientOptions) {
    super(options);
  }

  listUploadParts(
    bucket: string,
    key: string,
    uploadId: string,
  ): Promise<{ part: number; etag: string; size: number }[]> {
    return this.listParts(bucket, key, uploadId);
  }
}
