// The evaluations domain: KID / FID / IS, sample accuracy and dataset IS of a model version against a dataset version, computed by the
// evaluation.run job in the sampling worker pool (queued fairly with sample jobs).
import type { SampleScheduler, SamplingSignals } from '../sampling/index.ts';
import type { ModelAccessService } from '../models/index.ts';
import type { JobSender } from '../job-sender.ts';
import type { ObjectStore } from '@dapple/storage';
import type { ServiceDeps } from '../types.ts';
import { EvaluationService, type EvaluationConfig } from './evaluations.ts';

export {
  EvaluationService,
  comparableKey,
  evaluationWebhookPayload,
  MAX_EVAL_SAMPLES,
  MIN_EVAL_SAMPLES,
  type EvaluateModelInput,
  type EvaluationConfig,
  type EvaluationParams,
} from './evaluations.ts';
export { evaluationParams, labelSet } from './params.ts';
export { classifierKey, type ClassifierConfig } from './classifier-cache.ts';
export { evaluationChannel } from '../sampling/index.ts';

/** The evaluations domain's services, wired together (createServices spreads them in). */
export function createEvaluationServices(
  deps: ServiceDeps & { jobs: JobSender; store: ObjectStore; evaluation?: EvaluationConfig },
  modelAccess: ModelAccessService,
  sampling: { scheduler: SampleScheduler; signals: SamplingSignals },
) {
  return {
    evaluations: new EvaluationService(deps, modelAccess, sampling.scheduler, sampling.signals, deps.evaluation ?? {}),
  };
}
