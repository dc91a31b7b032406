import { DEFAULT_DATASET_LIMITS, type DatasetLimits } from '@dapple/datasets';
import { DEFAULT_URL_EXPIRY_SEC, MAX_URL_EXPIRY_SEC, MIN_PART_SIZE } from '@dapple/storage';

/** What one upload session may declare; checked at createUpload, before any byte is sent. */
export interface UploadLimits {
  maxFilesPerUpload: number;
  /** Largest plain file (image or caption). Same as the prepare limit `maxFileBytes`. */
  maxFileBytes: number;
  /** Largest uploaded archive (.zip, .tar, .tar.gz, .tgz). */
  maxArchiveBytes: number;
  /** Largest sum of declared sizes in one upload. */
  maxUploadBytes: number;
  /** Files larger than this go up in parts (S3 multipart); smaller ones in one PUT. */
  multipartThresholdBytes: number;
  /** Part size for multipart files (at least 5 MiB; grown for huge files so no file needs over 10,000 parts). */
  partBytes: number;
  /** An open upload can be completed until this long after it was created. */
  uploadTtlMs: number;
  /** Lifetime of each signed part URL; clients ask uploadPartUrls for fresh ones before they run out. */
  urlExpirySec: number;
}

export interface DatasetConfig {
  upload: UploadLimits;
  /** Limits for archive expansion and decoding in dataset.prepare. */
  prepare: DatasetLimits;
}

export const DEFAULT_DATASET_CONFIG: DatasetConfig = {
  upload: {
    maxFilesPerUpload: 10_000,
    maxFileBytes: DEFAULT_DATASET_LIMITS.maxFileBytes,
    maxArchiveBytes: 4 * 1024 ** 3,
    maxUploadBytes: 10 * 1024 ** 3,
    multipartThresholdBytes: 16 * 1024 ** 2,
    partBytes: 16 * 1024 ** 2,
    uploadTtlMs: 24 * 3_600_000,
    urlExpirySec: DEFAULT_URL_EXPIRY_SEC,
  },
  prepare: { ...DEFAULT_DATASET_LIMITS },
};

export interface DatasetConfigInput {
  upload?: Partial<UploadLimits>;
  prepare?: Partial<DatasetLimits>;
}

/** Defaults overlaid with `partial`; the plain-file limit is shared by upload checks and prepare. */
export function resolveDatasetConfig(partial: DatasetConfigInput = {}): DatasetConfig {
  const upload = { ...DEFAULT_DATASET_CONFIG.upload, ...partial.upload };
  const prepare = { ...DEFAULT_DATASET_CONFIG.prepare, ...partial.prepare };
  if (partial.upload?.maxFileBytes !== undefined && partial.prepare?.maxFileBytes === undefined)
    prepare.maxFileBytes = upload.maxFileBytes;
  if (partial.prepare?.maxFileBytes !== undefined && partial.upload?.maxFileBytes === undefined)
    upload.maxFileBytes = prepare.maxFileBytes;
  if (upload.partBytes < MIN_PART_SIZE)
    throw new RangeError(`upload.partBytes must be at least ${MIN_PART_SIZE} (S3's minimum part size)`);
  if (!Number.isInteger(upload.urlExpirySec) || upload.urlExpirySec < 1 || upload.urlExpirySec > MAX_URL_EXPIRY_SEC)
    throw new RangeError(`upload.urlExpirySec must be a whole number of seconds from 1 to ${MAX_URL_EXPIRY_SEC}`);
  if (upload.multipartThresholdBytes < upload.partBytes) {
    throw new RangeError('upload.multipartThresholdBytes must be at least upload.partBytes');
  }
  return { upload, prepare };
}
