import type { ObjectStore } from '@dapple/storage';
import type { JobSender } from '../job-sender.ts';
import { EvaluationService, type EvaluationConfig } from '../evaluations/evaluations.ts';
import { DEFAULT_SAMPLING_CONFIG, SampleScheduler, type SamplingConfig } from '../../sampling-pool/scheduler.ts';
import { HubPresence } from '../../sampling-pool/hub-presence.ts';
import { SamplingSignals } from '../../sampling-pool/signals.ts';
import type { Logger } from 'pino';
import { ModelAccessService } from '../models/access.ts';
import { poolOf } from '../runs/state.ts';
import { SamplingService } from './sampling.ts';
import type { ServiceDeps } from '../types.ts';

/** The sampling domain (generateSamples, evaluateModel, their worker pool), wired together; createServices spreads it in. */
export function createSamplingServices(
  deps: ServiceDeps & {
    store: ObjectStore;
    jobs: JobSender;
    sampling?: Partial<SamplingConfig>;
    evaluation?: EvaluationConfig;
  },
) {
  const signals = new SamplingSignals(poolOf(deps.db));
  const config = { ...DEFAULT_SAMPLING_CONFIG, ...deps.sampling };
  const scheduler = new SampleScheduler({ db: deps.db, now: deps.now, store: deps.store, signals }, config);
  const access = new ModelAccessService(deps);
  const presence = new HubPresence(poolOf(deps.db));
  const sampling = new SamplingService(deps, access, scheduler, signals, presence);
  let adoptTimer: NodeJS.Timeout | undefined;
  return {
    sampling,
    evaluations: new EvaluationService(deps, access, scheduler, signals, deps.evaluation ?? {}),
    samplingSignals: signals,
    /**
     * Marks this hub alive and adopts sample jobs left by hubs that died, now and every `adoptIntervalMs`.
     * In the background: a hub starts (and answers /healthz with 503) while its database is unreachable.
     */
    startSampling: (log?: Logger) => {
      const adopt = async () => {
        try {
          await presence.start();
          const n = await sampling.adoptOrphans();
          if (n) log?.info({ adopted: n }, 'restarted sample jobs of a hub that stopped');
        } catch (err) {
          log?.warn({ err }, 'could not adopt the sample jobs of stopped hubs; trying again later');
        }
      };
      void adopt();
      adoptTimer = setInterval(adopt, config.adoptIntervalMs).unref();
    },
    /** Stops the worker threads and the LISTEN connection (the hub calls it on close). */
    closeSampling: async () => {
      clearInterval(adoptTimer);
      await sampling.close();
      await presence.close();
      await signals.close();
    },
  };
}
