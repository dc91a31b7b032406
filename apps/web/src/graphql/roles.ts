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

/** Members and up upload datasets, start runs and publish; viewers only look (the server refuses them anyway). */
export function canContribute(role: TeamRole): boolean {
  return role !== 'VIEWER';
}

export function canManageMembers(role: TeamRole): boolean {
  return role === 'OWNER' || role === 'ADMIN';
}
