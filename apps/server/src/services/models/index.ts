import type { ObjectStore } from '@dapple/storage';
import type { JobSender } from '../job-sender.ts';
import { ModelAccessService } from './access.ts';
import { ModelService } from './registry.ts';
import { poolOf } from '../runs/state.ts';
import { ShareService } from './share-links.ts';
import type { TeamService } from '../teams/teams.ts';
import type { ServiceDeps } from '../types.ts';
import { RunWebhookRelay } from '../webhooks/run-relay.ts';
import { WebhookService, type WebhookConfig } from '../webhooks/webhooks.ts';

/** The models domain (registry, access, sharing) and webhooks, wired together; createServices spreads them in. */
export function createModelServices(
  deps: ServiceDeps & { store: ObjectStore; jobs: JobSender; webhooks: WebhookConfig },
  teams: TeamService,
) {
  const modelAccess = new ModelAccessService(deps);
  const webhooks = new WebhookService(deps, teams, deps.jobs, deps.webhooks);
  return {
    modelAccess,
    models: new ModelService(deps, deps.store, modelAccess, teams, webhooks),
    modelShares: new ShareService(deps, modelAccess),
    webhooks,
    runWebhookRelay: new RunWebhookRelay(deps, poolOf(deps.db), webhooks),
  };
}
