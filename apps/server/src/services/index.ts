import type { Db } from '@dapple/db';
import { FailureRateLimiter } from './auth/rate-limiter.ts';
import { PubSub } from '../pubsub.ts';
import { TeamService, type TeamMembersChange } from './teams/teams.ts';
import { ApiTokenService } from './auth/api-tokens.ts';
import { UserService } from './auth/users.ts';
import type { ObjectStore } from '@dapple/storage';
import type { JobSender } from './job-sender.ts';
import { resolveDatasetConfig, type DatasetConfig } from './datasets/config.ts';
import { createDatasetServices } from './datasets/index.ts';
import { createRunServices } from './runs/index.ts';
import { poolOf } from './runs/state.ts';
import { TeamActivity } from './team-activity/team-activity.ts';
import { createSamplingServices } from './sampling/index.ts';
import type { SamplingConfig } from '../sampling-pool/scheduler.ts';
import type { EvaluationConfig } from './evaluations/evaluations.ts';
import { createModelServices } from './models/index.ts';
import type { WebhookConfig } from './webhooks/webhooks.ts';

export interface ServicesOptions {
  db: Db;
  now?: () => Date;
  sessionTtlMs?: number;
  signInMaxFailures?: number;
  signInWindowMs?: number;
  store: ObjectStore;
  /** Queues background jobs (the hub's JobQueue). */
  jobs: JobSender;
  datasets?: DatasetConfig;
  /** Sampling worker pool and per-team limits (defaults in sampling/scheduler.ts). */
  sampling?: Partial<SamplingConfig>;
  /** Evaluation extractors (InceptionV3 model URL / object key). */
  evaluation?: EvaluationConfig;
  webhooks?: WebhookConfig;
}

export type Services = ReturnType<typeof createServices>;

/** Builds every service once per hub; resolvers reach them through the request context. */
export function createServices(opts: ServicesOptions) {
  const now = opts.now ?? (() => new Date());
  const deps = { db: opts.db, now };
  const teamEvents = new PubSub<TeamMembersChange>();
  const teams = new TeamService(deps, teamEvents);
  const runServices = createRunServices({ ...deps, store: opts.store }, teams);
  return {
    users: new UserService(deps, {
      sessionTtlMs: opts.sessionTtlMs ?? 30 * 86_400_000,
      sessionRefreshMs: 86_400_000,
      signInLimiter: new FailureRateLimiter({
        maxFailures: opts.signInMaxFailures ?? 10,
        windowMs: opts.signInWindowMs ?? 15 * 60_000,
        now: () => now().getTime(),
      }),
    }),
    apiTokens: new ApiTokenService(deps),
    teams,
    teamEvents,
    /** The object store itself, for housekeeping jobs; services reach objects through their own methods. */
    objectStore: opts.store,
    ...runServices,
    /** Team-scoped "runs or datasets changed" events for the dashboard's lists (teamActivity subscription). */
    teamActivity: new TeamActivity(opts.db, poolOf(opts.db), runServices.runSignals),
    ...createSamplingServices({
      ...deps,
      store: opts.store,
      jobs: opts.jobs,
      ...(opts.sampling ? { sampling: opts.sampling } : {}),
      ...(opts.evaluation ? { evaluation: opts.evaluation } : {}),
    }),
    ...createModelServices({ ...deps, store: opts.store, jobs: opts.jobs, webhooks: opts.webhooks ?? {} }, teams),
    ...createDatasetServices(
      { ...deps, store: opts.store, jobs: opts.jobs, config: opts.datasets ?? resolveDatasetConfig() },
      teams,
    ),
  };
}
