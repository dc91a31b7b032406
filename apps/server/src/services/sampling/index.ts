// The sampling domain: generateSamples jobs on the hub's sampling worker pool (../../sampling-pool/), fair per
// team, adopted by another hub when theirs stops, with live progress.
import type { ObjectStore } from '@dapple/storage';
import type { Logger } from 'pino';
import { HubPresence } from '../../sampling-pool/hub-presence.ts';
import { DEFAULT_SAMPLING_CONFIG, SampleScheduler, type SamplingConfig } from '../../sampling-pool/scheduler.ts';
import { SamplingSignals } from '../../sampling-pool/signals.ts';
import type { ModelAccessService } from '../models/index.ts';
import type { ServiceDeps } from '../types.ts';
import { SamplingService } from './sampling.ts';

export {
  SamplingService,
  MAX_SAMPLE_STEPS,
  MAX_SAMPLES_PER_JOB,
  SAMPLE_URL_TTL_SEC,
  type GenerateSamplesInput,
  type SampleJobView,
} from './sampling.ts';
export { versionModelRef, type SampleParams } from './sample-request.ts';
export {
  MAX_INTERPOLATION_FRAMES,
  MIN_INTERPOLATION_FRAMES,
  type InterpolateInput,
  type InterpolationParams,
} from './interpolation.ts';
export { DEFAULT_SAMPLING_CONFIG, SampleScheduler, type SamplingConfig } from '../../sampling-pool/scheduler.ts';
export { SamplingSignals, evaluationChannel, sampleJobChannel } from '../../sampling-pool/signals.ts';

/** The sampling domain (generateSamples and its worker pool), wired together; createServices spreads it in. */
export function createSamplingServices(
  deps: ServiceDeps & { store: ObjectStore; sampling?: Partial<SamplingConfig> },
  modelAccess: ModelAccessService,
) {
  const signals = new SamplingSignals(deps.pool);
  const config = { ...DEFAULT_SAMPLING_CONFIG, ...deps.sampling };
  const scheduler = new SampleScheduler({ db: deps.db, now: deps.now, store: deps.store, signals }, config);
  const presence = new HubPresence(deps.pool);
  const sampling = new SamplingService(deps, modelAccess, scheduler, signals, presence);
  let adoptTimer: NodeJS.Timeout | undefined;
  return {
    sampling,
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
      adoptTimer = setInterval(() => void adopt(), config.adoptIntervalMs).unref();
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
