// The models domain: the registry of models and immutable versions, publishing a run's checkpoint as a version,
// aliases, files and export, and who may do what (team roles, shares, share links, public visibility).
import type { ObjectStore } from '@dapple/storage';
import type { AccessEvents } from '../auth/index.ts';
import type { TeamService } from '../teams/index.ts';
import type { ServiceDeps } from '../types.ts';
import type { WebhookEmitter } from '../webhooks/index.ts';
import { ModelAccessService } from './access.ts';
import { ModelAliasService } from './aliases.ts';
import { ModelFileService } from './files.ts';
import { ModelPublisher } from './publish.ts';
import { ModelService } from './registry.ts';
import { ShareService } from './share-links.ts';

export {
  ModelAccessService,
  MODEL_NEEDS,
  SHARE_TOKEN_PREFIX,
  type ModelAccess,
  type ModelNeed,
  type ModelPrincipal,
} from './access.ts';
export { ModelAliasService, LATEST_ALIAS } from './aliases.ts';
export { ModelFileService, MODEL_URL_TTL_SEC, type VersionFileUrls } from './files.ts';
export { ModelPublisher, type PublishResult } from './publish.ts';
export { ModelService } from './registry.ts';
export { ShareService, MAX_SHARE_LINK_HOURS, type ShareWithGrantee } from './share-links.ts';

/** The models domain's services, wired together (createServices spreads them in). */
export function createModelServices(
  deps: ServiceDeps & { store: ObjectStore },
  teams: TeamService,
  webhooks: WebhookEmitter,
  access: AccessEvents,
) {
  // Stateless: the runs and sampling domains check access to model versions through this same instance.
  const modelAccess = new ModelAccessService(deps);
  const modelAliases = new ModelAliasService(deps, modelAccess);
  return {
    modelAccess,
    models: new ModelService(deps, deps.store, modelAccess, modelAliases, teams, access),
    modelAliases,
    modelPublisher: new ModelPublisher(deps, deps.store, modelAccess, modelAliases, teams, webhooks),
    modelFiles: new ModelFileService(deps, deps.store, modelAccess),
    modelShares: new ShareService(deps, modelAccess, access),
  };
}
