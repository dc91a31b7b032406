import type { ObjectStore } from '@dapple/storage';
import type { JobSender } from '../job-sender.ts';
import type { DatasetConfig } from './config.ts';
import { DatasetPrepareService } from './prepare.ts';
import { DatasetService } from './datasets.ts';
import type { TeamService } from '../teams/teams.ts';
import type { ServiceDeps } from '../types.ts';
import { UploadService } from './uploads.ts';

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
