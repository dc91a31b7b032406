import type { Env } from './env.ts';
import type { EvaluationConfig } from './services/evaluations/index.ts';
import { DEFAULT_SHARE_LINK_QUOTA, type SamplingConfig } from './sampling-pool/scheduler.ts';

/**
 * DAPPLE_SAMPLING_* and DAPPLE_SHARE_LINK_* onto the sampling pool config; unset ones keep the defaults (1 worker,
 * 2 jobs per team, 4 models; per share link 2 jobs at once and 30 per hour).
 */
export function samplingConfigFromEnv(env: Env): Partial<SamplingConfig> {
  return {
    ...(env.DAPPLE_SHARE_LINK_MAX_ACTIVE_JOBS !== undefined || env.DAPPLE_SHARE_LINK_JOBS_PER_HOUR !== undefined
      ? {
          shareLinkQuota: {
            maxActiveJobs: env.DAPPLE_SHARE_LINK_MAX_ACTIVE_JOBS ?? DEFAULT_SHARE_LINK_QUOTA.maxActiveJobs,
            maxJobsPerHour: env.DAPPLE_SHARE_LINK_JOBS_PER_HOUR ?? DEFAULT_SHARE_LINK_QUOTA.maxJobsPerHour,
          },
        }
      : {}),
    ...(env.DAPPLE_SAMPLING_WORKERS !== undefined ? { workers: env.DAPPLE_SAMPLING_WORKERS } : {}),
    ...(env.DAPPLE_SAMPLING_TEAM_CONCURRENCY !== undefined
      ? { perTeamConcurrency: env.DAPPLE_SAMPLING_TEAM_CONCURRENCY }
      : {}),
    ...(env.DAPPLE_SAMPLING_MAX_MODELS !== undefined ? { maxModelsPerWorker: env.DAPPLE_SAMPLING_MAX_MODELS } : {}),
  };
}

/** DAPPLE_INCEPTION_* onto the evaluation config (see docs/evaluation.md); nothing set: offline extractor only. */
export function evaluationConfigFromEnv(env: Env): EvaluationConfig {
  if (!env.DAPPLE_INCEPTION_MODEL_URL && !env.DAPPLE_INCEPTION_MODEL_KEY) return {};
  return {
    inception: {
      ...(env.DAPPLE_INCEPTION_MODEL_URL ? { url: env.DAPPLE_INCEPTION_MODEL_URL } : {}),
      ...(env.DAPPLE_INCEPTION_MODEL_KEY ? { objectKey: env.DAPPLE_INCEPTION_MODEL_KEY } : {}),
      ...(env.DAPPLE_INCEPTION_POOL_NODE ? { poolOutput: env.DAPPLE_INCEPTION_POOL_NODE } : {}),
      ...(env.DAPPLE_INCEPTION_LOGITS_NODE ? { logitsOutput: env.DAPPLE_INCEPTION_LOGITS_NODE } : {}),
      ...(env.DAPPLE_INCEPTION_INPUT_RANGE ? { inputRange: env.DAPPLE_INCEPTION_INPUT_RANGE } : {}),
    },
  };
}
