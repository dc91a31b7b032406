import { graphql } from '../tada';

export const TeamQuery = graphql(`
  query Team($slug: String!) {
    team(slug: $slug) {
      id
      slug
      name
      createdAt
      viewerRole
      members {
        role
        joinedAt
        user {
          id
          name
          email
        }
      }
    }
  }
`);

/** Pending invites are visible to admins and owners only (FORBIDDEN for others), so they are asked for separately. */
export const TeamInvitesQuery = graphql(`
  query TeamInvites($slug: String!) {
    team(slug: $slug) {
      id
      invites {
        id
        email
        role
        createdAt
        expiresAt
      }
    }
  }
`);

export const CreateTeamMutation = graphql(`
  mutation CreateTeam($input: CreateTeamInput!) {
    createTeam(input: $input) {
      id
      slug
      name
    }
  }
`);

export const InviteMemberMutation = graphql(`
  mutation InviteMember($input: InviteMemberInput!) {
    inviteMember(input: $input) {
      token
      invite {
        id
        email
        role
        expiresAt
      }
    }
  }
`);

export const AcceptInviteMutation = graphql(`
  mutation AcceptInvite($token: String!) {
    acceptInvite(token: $token) {
      id
      slug
      name
      viewerRole
    }
  }
`);

export const SetMemberRoleMutation = graphql(`
  mutation SetMemberRole($input: SetMemberRoleInput!) {
    setMemberRole(input: $input) {
      role
      user {
        id
      }
    }
  }
`);

export const RemoveMemberMutation = graphql(`
  mutation RemoveMember($input: RemoveMemberInput!) {
    removeMember(input: $input)
  }
`);

export const TeamMembersChangedSubscription = graphql(`
  subscription TeamMembersChanged($teamId: ID!) {
    teamMembersChanged(teamId: $teamId) {
      kind
      userId
      role
    }
  }
`);

/** What an invite link is for (team name, role, still open?), readable signed out: the token is the secret. */
export const InvitePreviewQuery = graphql(`
  query InvitePreview($token: String!) {
    invite(token: $token) {
      teamName
      role
      status
    }
  }
`);
