// "Something in this team's runs or datasets changed": the feed the dashboard's lists follow (teamActivity).
import type { RunSignals } from '../runs/index.ts';
import type { ServiceDeps } from '../types.ts';
import { TeamActivity } from './team-activity.ts';

export {
  TeamActivity,
  TEAM_ACTIVITY_CHANNEL,
  teamActivityChannel,
  type TeamActivityEvent,
  type TeamActivityKind,
} from './team-activity.ts';

export function createTeamActivityServices(deps: ServiceDeps, runSignals: RunSignals) {
  return { teamActivity: new TeamActivity(deps.db, deps.pool, runSignals) };
}
