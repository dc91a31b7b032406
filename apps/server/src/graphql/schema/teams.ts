import { TEAM_ROLES, type Invite } from '@dapple/db';
import { forbidden } from '../../services/errors.ts';
import {
  teamMembersChannel,
  type MemberWithUser,
  type TeamMembersChange,
  type InvitePreview,
  type TeamWithRole,
} from '../../services/teams/index.ts';
import { builder } from '../builder.ts';
import { upperCaseValues } from '../enum-values.ts';
import { AuthPayload, UserRef } from './auth.ts';

const TeamRoleEnum = builder.enumType('TeamRole', {
  description: 'From most to least privileged: OWNER > ADMIN > MEMBER > VIEWER.',
  values: upperCaseValues(TEAM_ROLES),
});

const TeamMemberRef = builder.objectRef<MemberWithUser>('TeamMember').implement({
  fields: (t) => ({
    user: t.field({ type: UserRef, resolve: (m) => m.user }),
    role: t.field({ type: TeamRoleEnum, resolve: (m) => m.membership.role }),
    joinedAt: t.field({ type: 'DateTime', resolve: (m) => m.membership.createdAt }),
  }),
});

const InviteRef = builder.objectRef<Invite>('Invite').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    role: t.field({ type: TeamRoleEnum, resolve: (i) => i.role }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    acceptedAt: t.expose('acceptedAt', { type: 'DateTime', nullable: true }),
  }),
});

const InvitePreviewStatusEnum = builder.enumType('InvitePreviewStatus', {
  values: { PENDING: { value: 'pending' }, ACCEPTED: { value: 'accepted' }, EXPIRED: { value: 'expired' } } as const,
});

const InvitePreviewRef = builder.objectRef<InvitePreview>('InvitePreview').implement({
  description: "What an invite link is for: the team's name and the role (its page shows them before sign-in).",
  fields: (t) => ({
    teamName: t.exposeString('teamName'),
    role: t.field({ type: TeamRoleEnum, resolve: (p) => p.role }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    status: t.field({ type: InvitePreviewStatusEnum, resolve: (p) => p.status }),
  }),
});

const TeamRef = builder.objectRef<TeamWithRole>('Team').implement({
  fields: (t) => ({
    id: t.id({ resolve: (x) => x.team.id }),
    name: t.string({ resolve: (x) => x.team.name }),
    slug: t.string({ resolve: (x) => x.team.slug }),
    createdAt: t.field({ type: 'DateTime', resolve: (x) => x.team.createdAt }),
    viewerRole: t.field({
      type: TeamRoleEnum,
      description: "The signed-in user's role in this team.",
      resolve: (x) => x.role,
    }),
    members: t.field({ type: [TeamMemberRef], resolve: (x, _args, ctx) => ctx.services.teams.members(x.team.id) }),
    invites: t.field({
      type: [InviteRef],
      nullable: true,
      description: 'Pending (not accepted, not expired) invites. Admins and owners only: FORBIDDEN for others.',
      resolve: (x, _args, ctx) => ctx.services.teams.pendingInvites(ctx, x.team.id),
    }),
  }),
});

const InviteMemberPayload = builder.objectRef<{ invite: Invite; token: string }>('InviteMemberPayload').implement({
  fields: (t) => ({
    invite: t.field({ type: InviteRef, resolve: (p) => p.invite }),
    token: t.exposeString('token', {
      description: 'Share this with the invitee; they pass it to acceptInvite. Shown only in this response.',
    }),
  }),
});

const TeamMembersChangeKind = builder.enumType('TeamMembersChangeKind', {
  values: ['JOINED', 'ROLE_CHANGED', 'REMOVED'] as const,
});

const TeamMembersChangedEvent = builder.objectRef<TeamMembersChange>('TeamMembersChangedEvent').implement({
  fields: (t) => ({
    teamId: t.exposeID('teamId'),
    userId: t.exposeID('userId'),
    kind: t.field({ type: TeamMembersChangeKind, resolve: (e) => e.kind }),
    role: t.field({
      type: TeamRoleEnum,
      nullable: true,
      description: 'The new role; null when removed.',
      resolve: (e) => e.role,
    }),
  }),
});

const CreateTeamInput = builder.inputType('CreateTeamInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    slug: t.string({
      required: true,
      description: 'Lowercase letters, digits and inner hyphens; unique across the hub.',
    }),
  }),
});
const InviteMemberInput = builder.inputType('InviteMemberInput', {
  fields: (t) => ({
    teamId: t.id({ required: true }),
    email: t.string({ required: true }),
    role: t.field({ type: TeamRoleEnum, required: true }),
  }),
});
const SetMemberRoleInput = builder.inputType('SetMemberRoleInput', {
  fields: (t) => ({
    teamId: t.id({ required: true }),
    userId: t.id({ required: true }),
    role: t.field({ type: TeamRoleEnum, required: true }),
  }),
});
const RemoveMemberInput = builder.inputType('RemoveMemberInput', {
  fields: (t) => ({
    teamId: t.id({ required: true }),
    userId: t.id({ required: true }),
  }),
});

builder.objectField(AuthPayload, 'team', (t) =>
  t.field({
    type: TeamRef,
    nullable: true,
    description: 'The team a sign-up with an invite joined; null otherwise.',
    resolve: (p) => p.joined ?? null,
  }),
);

builder.objectField(UserRef, 'teams', (t) =>
  t.field({
    type: [TeamRef],
    description: 'Teams the user belongs to, by name. Only visible to the user.',
    authScopes: { authenticated: true },
    resolve: (user, _args, ctx) => {
      if (ctx.viewer?.user.id !== user.id) throw forbidden('Only the user can list their teams');
      return ctx.services.teams.listForUser(user.id);
    },
  }),
);

builder.queryField('team', (t) =>
  t.field({
    type: TeamRef,
    description: 'NOT_FOUND when no team has this slug; FORBIDDEN when you are not a member.',
    authScopes: { authenticated: true },
    args: { slug: t.arg.string({ required: true }) },
    resolve: (_root, { slug }, ctx) => ctx.services.teams.bySlug(ctx, slug),
  }),
);

builder.queryField('invite', (t) =>
  t.field({
    type: InvitePreviewRef,
    description:
      'The team and role of an invite link, signed in or not (the token is the secret). NOT_FOUND for an unknown token.',
    args: { token: t.arg.string({ required: true }) },
    resolve: (_root, { token }, ctx) => ctx.services.teams.invitePreview(token),
  }),
);

builder.mutationFields((t) => ({
  createTeam: t.field({
    type: TeamRef,
    description: 'Creates a team with you as its owner. CONFLICT when the slug is taken.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CreateTeamInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.teams.create(ctx, input),
  }),
  inviteMember: t.field({
    type: InviteMemberPayload,
    description: 'Admins and owners invite by email (only owners invite owners). Invites expire after 7 days.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: InviteMemberInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.teams.invite(ctx, input),
  }),
  acceptInvite: t.field({
    type: TeamRef,
    description: 'Joins the team of an invite addressed to your email.',
    authScopes: { authenticated: true },
    args: { token: t.arg.string({ required: true }) },
    resolve: (_root, { token }, ctx) => ctx.services.teams.acceptInvite(ctx, token),
  }),
  setMemberRole: t.field({
    type: TeamMemberRef,
    description: 'Admins and owners change roles; only owners grant or change OWNER; the last owner cannot be demoted.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: SetMemberRoleInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.teams.setMemberRole(ctx, input),
  }),
  removeMember: t.boolean({
    description: 'Remove a member (admins/owners) or leave (pass your own userId). The last owner cannot leave.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: RemoveMemberInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.teams.removeMember(ctx, input),
  }),
}));

builder.subscriptionField('teamMembersChanged', (t) =>
  t.field({
    type: TeamMembersChangedEvent,
    description: 'Fires when someone joins the team, changes role, or leaves. Any member may subscribe.',
    authScopes: { authenticated: true },
    args: { teamId: t.arg.id({ required: true }) },
    subscribe: async (_root, { teamId }, ctx) => {
      // Checked up front so a non-member gets a clean FORBIDDEN instead of a stream.
      const membership = await ctx.services.teams.requireTeamRole(ctx, String(teamId), 'viewer');
      ctx.streamAccess?.recheckWith((fresh) => fresh.services.teams.requireTeamRole(fresh, String(teamId), 'viewer'));
      return untilRemoved(ctx.services.teamEvents.subscribe(teamMembersChannel(String(teamId))), membership.userId);
    },
    resolve: (event) => event,
  }),
);

/**
 * Ends the subscriber's stream right after the event that removes them from the team. A plain
 * iterator, not an async generator: a generator parked in `await` would not run `return()` (the
 * client unsubscribing) until the next event arrived, leaking the listener meanwhile.
 */
function untilRemoved(
  events: AsyncIterableIterator<TeamMembersChange>,
  userId: string,
): AsyncIterableIterator<TeamMembersChange> {
  let removed = false;
  const iterator: AsyncIterableIterator<TeamMembersChange> = {
    next: async () => {
      if (removed) return { value: undefined, done: true };
      const result = await events.next();
      if (!result.done && result.value.kind === 'REMOVED' && result.value.userId === userId) {
        removed = true;
        await events.return?.();
      }
      return result;
    },
    return: async () => {
      removed = true;
      return (await events.return?.()) ?? { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
