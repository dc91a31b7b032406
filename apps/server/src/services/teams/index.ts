// The teams domain: teams, memberships and roles, invites, and the live "members changed" events.
import { PubSub } from '../../pubsub.ts';
import type { AccessEvents } from '../auth/index.ts';
import type { ServiceDeps } from '../types.ts';
import { TeamService, type TeamMembersChange } from './teams.ts';

export {
  TeamService,
  roleAtLeast,
  teamMembersChannel,
  INVITE_TTL_MS,
  SLUG_PATTERN,
  type InvitePreview,
  type MemberWithUser,
  type TeamMembersChange,
  type TeamWithRole,
} from './teams.ts';

/** The teams domain's services, wired together (createServices spreads them in). */
export function createTeamServices(deps: ServiceDeps, access: AccessEvents) {
  const teamEvents = new PubSub<TeamMembersChange>();
  return { teams: new TeamService(deps, teamEvents, access), teamEvents };
}
