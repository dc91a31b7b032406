import type { ObjectStore } from '@dapple/storage';
import type { JobSender } from '../jobs/catalog.ts';
import { EvaluationService, type EvaluationConfig } from './evaluations.ts';
import { DEFAULT_SAMPLING_CONFIG, SampleScheduler, type SamplingConfig } from '../sampling/scheduler.ts';
import { SamplingSignals } from '../sampling/signals.ts';
import { ModelAccessService } from './model-access.ts';
import { poolOf } from './runs-state.ts';
import { SamplingService } from './sampling.ts';
import type { ServiceDeps } from './types.ts';

/** The sampling domain (generateSamples, evaluateModel, their worker pool), wired together; createServices spreads it in. */
export function createSamplingServices(deps: ServiceDeps & { store: ObjectStore; jobs: JobSender; sampling?: Partial<SamplingConfig>; evaluation?: EvaluationConfig }) {
  const signals = new SamplingSignals(poolOf(deps.db));
  const scheduler = new SampleScheduler({ db: deps.db, now: deps.now, store: deps.store, signals }, { ...DEFAULT_SAMPLING_CONFIG, ...deps.sampling });
  const access = new ModelAccessService(deps);
  const sampling = new SamplingService(deps, access, scheduler, signals);
  return {
    sampling,
    evaluations: new EvaluationService(deps, access, scheduler, signals, deps.evaluation ?? {}),
    samplingSignals: signals,
    /** Stops the worker threads and the LISTEN connection (the hub calls it on close). */
    closeSampling: async () => {
      await sampling.close();
      await signals.close();
    },
  };
}
