import { describe, expect, it } from 'vitest';
import { DEFAULT_DATASET_LIMITS } from '@dapple/datasets';
import { datasetConfigFromEnv } from '../src/config.ts';
import { EnvError, loadEnv } from '../src/env.ts';
import { DEFAULT_DATASET_CONFIG, resolveDatasetConfig } from '../src/services/datasets/config.ts';

describe('dataset limits from the environment', () => {
  it('maps DATASET_* onto upload and prepare limits, keeping defaults for the rest', () => {
    const env = loadEnv({
      DATASET_MAX_FILES_PER_UPLOAD: '500',
      DATASET_MAX_FILE_BYTES: '1048576',
      DATASET_MAX_ARCHIVE_ENTRIES: '1000',
      DATASET_PART_BYTES: '8388608',
    });
    const config = resolveDatasetConfig(datasetConfigFromEnv(env));
    expect(config.upload).toMatchObject({
      maxFilesPerUpload: 500,
      maxFileBytes: 1048576,
      partBytes: 8388608,
      maxArchiveBytes: DEFAULT_DATASET_CONFIG.upload.maxArchiveBytes,
    });
    expect(config.prepare).toMatchObject({
      maxFileBytes: 1048576,
      maxEntries: 1000,
      maxCompressionRatio: DEFAULT_DATASET_LIMITS.maxCompressionRatio,
    });
    expect(resolveDatasetConfig(datasetConfigFromEnv(loadEnv({})))).toEqual(DEFAULT_DATASET_CONFIG);
  });

  it('refuses bad values naming the variable', () => {
    expect(() => loadEnv({ DATASET_MAX_FILE_BYTES: '10MB', DATASET_PART_BYTES: '1024' })).toThrow(EnvError);
    try {
      loadEnv({ DATASET_MAX_FILE_BYTES: '10MB', DATASET_PART_BYTES: '1024' });
    } catch (err) {
      expect((err as EnvError).issues).toEqual([
        'DATASET_MAX_FILE_BYTES: must be a positive whole number',
        'DATASET_PART_BYTES: must be at least 5242880 (5 MiB, S3 minimum part size)',
      ]);
    }
    expect(() =>
      resolveDatasetConfig({ upload: { partBytes: 16 * 1024 * 1024, multipartThresholdBytes: 1024 } }),
    ).toThrow(/multipartThresholdBytes must be at least upload.partBytes/);
  });
});
