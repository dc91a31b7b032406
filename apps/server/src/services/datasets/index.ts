// The datasets domain: datasets and their immutable versions, browser uploads (multipart, resumable), and the
// dataset.prepare job's body (decode, validate, dedupe, resize, shard).
import type { ObjectStore } from '@dapple/storage';
import type { JobSender } from '../job-sender.ts';
import type { TeamService } from '../teams/index.ts';
import type { ServiceDeps } from '../types.ts';
import type { DatasetConfig } from './config.ts';
import { DatasetService } from './datasets.ts';
import { DatasetPrepareService } from './prepare.ts';
import { UploadService } from './uploads.ts';

export {
  DEFAULT_DATASET_CONFIG,
  resolveDatasetConfig,
  type DatasetConfig,
  type DatasetConfigInput,
  type UploadLimits,
} from './config.ts';
export {
  DatasetService,
  datasetKeys,
  labelHistogram,
  rejectedByReason,
  MAX_RESOLUTION,
  MIN_RESOLUTION,
  type DatasetFilePage,
} from './datasets.ts';
export { DatasetPrepareService, type PrepareOutcome, type PrepareRunOptions } from './prepare.ts';
export { UploadService, type CompletedUpload, type UploadFileProgress, type UploadPartTarget } from './uploads.ts';

export interface DatasetServiceDeps extends ServiceDeps {
  store: ObjectStore;
  jobs: JobSender;
  config: DatasetConfig;
}

/** The dataset domain's services, wired together (createServices spreads them in). */
export function createDatasetServices(deps: DatasetServiceDeps, teams: TeamService) {
  const datasets = new DatasetService(deps, teams);
  const uploads = new UploadService(deps, datasets);
  return {
    datasets,
    uploads,
    datasetPrepare: new DatasetPrepareService(deps, uploads),
  };
}
