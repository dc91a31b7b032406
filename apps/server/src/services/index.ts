import type { Db } from '@dapple/db';
import type { ObjectStore } from '@dapple/storage';
import type pg from 'pg';
import { createAuthServices, type AuthOptions } from './auth/index.ts';
import { createDatasetServices, resolveDatasetConfig, type DatasetConfig } from './datasets/index.ts';
import { createEvaluationServices, type EvaluationConfig } from './evaluations/index.ts';
import type { JobSender } from './job-sender.ts';
import { createModelServices } from './models/index.ts';
import { createRunServices } from './runs/index.ts';
import { createSamplingServices, type SamplingConfig } from './sampling/index.ts';
import { createTeamActivityServices } from './team-activity/index.ts';
import { createTeamServices } from './teams/index.ts';
import { createWebhookServices, type WebhookConfig } from './webhooks/index.ts';

export type { DatasetConfig, DatasetConfigInput } from './datasets/index.ts';
export type { EvaluationConfig } from './evaluations/index.ts';
export type { RunsConfig } from './runs/index.ts';
export type { SamplingConfig } from './sampling/index.ts';
export type { WebhookConfig } from './webhooks/index.ts';

export interface ServicesOptions extends AuthOptions {
  db: Db;
  /** The pool behind `db` (createDb returns both). */
  pool: pg.Pool;
  now?: () => Date;
  store: ObjectStore;
  /** The same objects, with the URLs trainers are given (default `store`). */
  trainerStore?: ObjectStore;
  /** Queues background jobs (the hub's JobQueue). */
  jobs: JobSender;
  datasets?: DatasetConfig;
  /** Sampling worker pool and per-team limits (defaults in sampling-pool/scheduler.ts). */
  sampling?: Partial<SamplingConfig>;
  /** Evaluation extractors (InceptionV3 model URL / object key). */
  evaluation?: EvaluationConfig;
  webhooks?: WebhookConfig;
}

export type Services = ReturnType<typeof createServices>;

/**
 * Builds every service once per hub, domain by domain (each services/<domain>/index.ts wires its own);
 * resolvers reach them through the request context, jobs through their JobContext.
 */
export function createServices(opts: ServicesOptions) {
  const deps = { db: opts.db, pool: opts.pool, now: opts.now ?? (() => new Date()) };
  const withStore = { ...deps, store: opts.store };
  // Sign-up with an invite reaches into the teams domain, which is built on the auth domain's access events.
  const auth = createAuthServices(deps, opts, () => team.teams);
  const team = createTeamServices(deps, auth.accessEvents);
  const webhook = createWebhookServices({ ...deps, jobs: opts.jobs, config: opts.webhooks ?? {} }, team.teams);
  const model = createModelServices(withStore, team.teams, webhook.webhooks, auth.accessEvents);
  const run = createRunServices(
    { ...withStore, ...(opts.trainerStore ? { trainerStore: opts.trainerStore } : {}) },
    team.teams,
    model.modelAccess,
  );
  const sampling = createSamplingServices(
    { ...withStore, ...(opts.sampling ? { sampling: opts.sampling } : {}) },
    model.modelAccess,
  );
  return {
    ...auth,
    ...team,
    /** The object store itself, for housekeeping jobs; services reach objects through their own methods. */
    objectStore: opts.store,
    ...run,
    /** Team-scoped "runs or datasets changed" events for the dashboard's lists (teamActivity subscription). */
    ...createTeamActivityServices(deps, run.runSignals),
    ...sampling,
    ...createEvaluationServices(
      { ...withStore, jobs: opts.jobs, ...(opts.evaluation ? { evaluation: opts.evaluation } : {}) },
      model.modelAccess,
      { scheduler: sampling.sampling.scheduler, signals: sampling.samplingSignals },
    ),
    ...model,
    ...webhook,
    ...createDatasetServices(
      { ...withStore, jobs: opts.jobs, config: opts.datasets ?? resolveDatasetConfig() },
      team.teams,
    ),
  };
}
