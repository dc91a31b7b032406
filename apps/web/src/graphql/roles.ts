import type { ResultOf } from './tada';
import type { TeamQuery } from './operations/teams';

export type TeamRole = NonNullable<ResultOf<typeof TeamQuery>['team']>['viewerRole'];

/** Most to least privileged, as the server orders them. */
export const TEAM_ROLES: readonly TeamRole[] = ['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'];

export const ROLE_LABELS: Record<TeamRole, string> = {
  OWNER: 'Owner',
  ADMIN: 'Admin',
  MEMBER: 'Member',
  VIEWER: 'Viewer',
};

export const ROLE_DESCRIPTIONS: Record<TeamRole, string> = {
  OWNER: 'Full control, including the owner role',
  ADMIN: 'Invites people and changes roles',
  MEMBER: 'Uploads datasets, starts runs, publishes models',
  VIEWER: 'Sees everything, changes nothing',
};

export function canManageMembers(role: TeamRole): boolean {
  return role === 'OWNER' || role === 'ADMIN';
}
