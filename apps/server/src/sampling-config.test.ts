import { describe, expect, it } from 'vitest';
import { EnvError, loadEnv } from './env.ts';
import { evaluationConfigFromEnv, samplingConfigFromEnv } from './sampling-config.ts';

describe('sampling and evaluation settings from the environment', () => {
  it('maps DAPPLE_SAMPLING_* and DAPPLE_INCEPTION_* and leaves unset ones to the defaults', () => {
    const env = loadEnv({
      DAPPLE_SAMPLING_WORKERS: '2',
      DAPPLE_SAMPLING_TEAM_CONCURRENCY: '1',
      DAPPLE_INCEPTION_MODEL_KEY: 'extractors/inception-v3/model.json',
      DAPPLE_INCEPTION_POOL_NODE: 'StatefulPartitionedCall:1',
      DAPPLE_INCEPTION_INPUT_RANGE: '[0,1]',
    });
    expect(samplingConfigFromEnv(env)).toEqual({ workers: 2, perTeamConcurrency: 1 });
    expect(evaluationConfigFromEnv(env)).toEqual({
      inception: {
        objectKey: 'extractors/inception-v3/model.json',
        poolOutput: 'StatefulPartitionedCall:1',
        inputRange: '[0,1]',
      },
    });
    expect(evaluationConfigFromEnv(loadEnv({}))).toEqual({});
    expect(samplingConfigFromEnv(loadEnv({}))).toEqual({});
    expect(samplingConfigFromEnv(loadEnv({ DAPPLE_SHARE_LINK_JOBS_PER_HOUR: '5' }))).toEqual({
      shareLinkQuota: { maxActiveJobs: 2, maxJobsPerHour: 5 },
    });
    expect(() => loadEnv({ DAPPLE_SHARE_LINK_MAX_ACTIVE_JOBS: '-1' })).toThrow(/DAPPLE_SHARE_LINK_MAX_ACTIVE_JOBS/);
  });

  it('refuses bad values naming the variable', () => {
    expect(() => loadEnv({ DAPPLE_SAMPLING_WORKERS: '0' })).toThrow(EnvError);
    expect(() => loadEnv({ DAPPLE_SAMPLING_WORKERS: '0' })).toThrow(
      /DAPPLE_SAMPLING_WORKERS: must be a positive whole number/,
    );
    expect(() => loadEnv({ DAPPLE_INCEPTION_MODEL_URL: 'ftp://x/model.json' })).toThrow(/DAPPLE_INCEPTION_MODEL_URL/);
    expect(() => loadEnv({ DAPPLE_INCEPTION_INPUT_RANGE: '0-1' })).toThrow(/DAPPLE_INCEPTION_INPUT_RANGE/);
  });
});
