// The webhooks domain: a team's signed HTTP callbacks, their delivery log, and the relay that turns run status
// changes (from any hub) into run.* events. Other domains fire events through a WebhookEmitter.
import type { JobSender } from '../job-sender.ts';
import type { TeamService } from '../teams/index.ts';
import type { ServiceDeps } from '../types.ts';
import { RunWebhookRelay } from './run-relay.ts';
import { WebhookService, type WebhookConfig } from './webhooks.ts';

export { RunWebhookRelay, RUN_WEBHOOK_CHANNEL } from './run-relay.ts';
export { deliveryIdFor, signPayload } from './signing.ts';
export { isPrivateAddress, sanitiseExcerpt } from './egress.ts';
export {
  WebhookService,
  SIGNATURE_HEADER,
  WEBHOOK_SECRET_PREFIX,
  type DeliverPayload,
  type WebhookConfig,
  type WebhookEmitter,
} from './webhooks.ts';

/** The webhooks domain's services, wired together (createServices spreads them in). */
export function createWebhookServices(
  deps: ServiceDeps & { jobs: JobSender; config: WebhookConfig },
  teams: TeamService,
) {
  const webhooks = new WebhookService(deps, teams, deps.jobs, deps.config);
  return { webhooks, runWebhookRelay: new RunWebhookRelay(deps, deps.pool, webhooks) };
}
