import { and, asc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import {
  invites,
  memberships,
  teams,
  TEAM_ROLES,
  users,
  type Invite,
  type Membership,
  type Team,
  type TeamRole,
  type User,
} from '@dapple/db';
import { z } from 'zod';
import {
  randomSecret,
  sha256Hex,
  requireViewer,
  type AccessEvents,
  type JoinedTeam,
  type SignUpInvites,
} from '../auth/index.ts';
import { badInput, conflict, forbidden, isUniqueViolation, notFound } from '../errors.ts';
import type { PubSub } from '../../pubsub.ts';
import type { RequestMeta, ServiceDeps, Tx } from '../types.ts';
import { parseInput } from '../validation.ts';

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
export const INVITE_TTL_MS = 7 * 86_400_000;

const role = z.enum(TEAM_ROLES);
const id = (what: string) => z.uuid(`must be a valid ${what} id`);
const createTeamInput = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  slug: z
    .string()
    .trim()
    .regex(SLUG_PATTERN, 'must be 1–40 lowercase letters, digits or inner hyphens (e.g. "vision-lab")'),
});
const inviteInput = z.object({
  teamId: id('team'),
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(254, 'must be at most 254 characters')
    .pipe(z.email('must be a valid email address')),
  role,
});
const memberInput = z.object({ teamId: id('team'), userId: id('user') });
const setRoleInput = memberInput.extend({ role });

/** owner > admin > member > viewer */
export function roleAtLeast(actual: TeamRole, min: TeamRole): boolean {
  return TEAM_ROLES.indexOf(actual) <= TEAM_ROLES.indexOf(min);
}

export type TeamMembersChange = {
  teamId: string;
  userId: string;
  kind: 'JOINED' | 'ROLE_CHANGED' | 'REMOVED';
  role: TeamRole | null;
};
export const teamMembersChannel = (teamId: string) => `team:${teamId}:members`;

export interface TeamWithRole {
  team: Team;
  role: TeamRole;
}
export interface MemberWithUser {
  membership: Membership;
  user: User;
}

/** An invite as its link's page shows it (see TeamService.invitePreview). */
export interface InvitePreview {
  teamName: string;
  role: TeamRole;
  expiresAt: Date;
  status: 'pending' | 'accepted' | 'expired';
}

export class TeamService implements SignUpInvites {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly events: PubSub<TeamMembersChange>,
    private readonly access: AccessEvents,
  ) {}

  async create(meta: RequestMeta, input: unknown): Promise<TeamWithRole> {
    const viewer = requireViewer(meta);
    const { name, slug } = parseInput(createTeamInput, input);
    try {
      const team = await this.deps.db.transaction(async (tx) => {
        const [team] = await tx.insert(teams).values({ name, slug }).returning();
        if (!team) throw new Error('insert into teams returned no row');
        await tx.insert(memberships).values({ teamId: team.id, userId: viewer.user.id, role: 'owner' });
        return team;
      });
      return { team, role: 'owner' };
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`The slug "${slug}" is already taken`, 'slug');
      throw err;
    }
  }

  /** NOT_FOUND when no team has the slug or the caller is not a member. */
  async bySlug(meta: RequestMeta, slug: string): Promise<TeamWithRole> {
    requireViewer(meta);
    const [team] = await this.deps.db.select().from(teams).where(eq(teams.slug, slug.trim()));
    if (!team) throw notFound(`Team "${slug}"`);
    const membership = await this.requireTeamRole(meta, team.id, 'viewer', `Team "${slug}"`);
    return { team, role: membership.role };
  }

  async listForUser(userId: string): Promise<TeamWithRole[]> {
    const rows = await this.deps.db
      .select({ team: teams, role: memberships.role })
      .from(memberships)
      .innerJoin(teams, eq(teams.id, memberships.teamId))
      .where(eq(memberships.userId, userId))
      .orderBy(asc(teams.name));
    return rows;
  }

  /** The user's role in each team (null where not a member), in the order of `teamIds`: per-row permission fields. */
  async rolesOf(userId: string, teamIds: readonly string[]): Promise<(TeamRole | null)[]> {
    const rows = await this.deps.db
      .select({ teamId: memberships.teamId, role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.userId, userId), inArray(memberships.teamId, [...teamIds])));
    return teamIds.map((id) => rows.find((r) => r.teamId === id)?.role ?? null);
  }

  /**
   * The one authorisation check for team resources: the caller's membership when its role is at
   * least `minRole`. Non-members get NOT_FOUND naming `hiddenAs` (what the caller asked for: "Run",
   * "Dataset"…), the very answer a missing object gets, so nobody learns what other teams hold. A member
   * whose role is too low gets FORBIDDEN: the object is theirs to know about.
   */
  async requireTeamRole(meta: RequestMeta, teamId: string, minRole: TeamRole, hiddenAs = 'Team'): Promise<Membership> {
    const viewer = requireViewer(meta);
    if (!z.uuid().safeParse(teamId).success) throw notFound(hiddenAs);
    const membership = await this.membership(teamId, viewer.user.id);
    if (!membership) throw notFound(hiddenAs);
    if (!roleAtLeast(membership.role, minRole)) {
      throw forbidden(`This needs the ${minRole} role or higher in the team; you are ${membership.role}`);
    }
    return membership;
  }

  async members(teamId: string): Promise<MemberWithUser[]> {
    return this.deps.db
      .select({ membership: memberships, user: users })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.teamId, teamId))
      .orderBy(asc(memberships.createdAt));
  }

  async pendingInvites(meta: RequestMeta, teamId: string): Promise<Invite[]> {
    await this.requireTeamRole(meta, teamId, 'admin');
    return this.deps.db
      .select()
      .from(invites)
      .where(and(eq(invites.teamId, teamId), isNull(invites.acceptedAt), gt(invites.expiresAt, this.deps.now())))
      .orderBy(asc(invites.createdAt));
  }

  /** Admins invite; only owners may invite owners. The token is returned once for sharing. */
  async invite(meta: RequestMeta, input: unknown): Promise<{ invite: Invite; token: string }> {
    const { teamId, email, role } = parseInput(inviteInput, input);
    const actor = await this.requireTeamRole(meta, teamId, 'admin');
    if (role === 'owner' && actor.role !== 'owner') throw forbidden('Only owners can invite owners');
    const [existing] = await this.deps.db
      .select({ id: memberships.id })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.teamId, teamId), eq(sql`lower(${users.email})`, email)));
    if (existing) throw conflict(`${email} is already a member of this team`, 'email');
    const token = randomSecret();
    const [invite] = await this.deps.db
      .insert(invites)
      .values({
        teamId,
        email,
        role,
        tokenHash: sha256Hex(token),
        expiresAt: new Date(this.deps.now().getTime() + INVITE_TTL_MS),
        invitedBy: actor.userId,
      })
      .returning();
    if (!invite) throw new Error('insert into invites returned no row');
    return { invite, token };
  }

  /**
   * What an invite link is for, shown on its page before anyone signs in: the team's name, the role, whether it is
   * still open. The token is the secret (whoever holds it may join, with the addressed email), so its holder may
   * see this much; the invitee's address is not shown. NOT_FOUND for an unknown token.
   */
  async invitePreview(token: string): Promise<InvitePreview> {
    const [row] = await this.deps.db
      .select({ invite: invites, teamName: teams.name })
      .from(invites)
      .innerJoin(teams, eq(teams.id, invites.teamId))
      .where(eq(invites.tokenHash, sha256Hex(token)));
    if (!row) throw notFound('Invite');
    const { invite, teamName } = row;
    const status = invite.acceptedAt ? 'accepted' : invite.expiresAt <= this.deps.now() ? 'expired' : 'pending';
    return { teamName, role: invite.role, expiresAt: invite.expiresAt, status };
  }

  /** Joins the caller to the invite's team; the invite must be addressed to the caller's email. */
  async acceptInvite(meta: RequestMeta, token: string): Promise<TeamWithRole> {
    const viewer = requireViewer(meta);
    const result = await this.deps.db.transaction(async (tx) => {
      const [invite] = await tx
        .select()
        .from(invites)
        .where(eq(invites.tokenHash, sha256Hex(token)))
        .for('update');
      if (!invite) throw notFound('Invite');
      if (invite.acceptedAt) throw conflict('This invite has already been accepted', 'token');
      if (invite.expiresAt <= this.deps.now())
        throw badInput('token', 'token: this invite has expired; ask for a new one');
      if (invite.email.toLowerCase() !== viewer.user.email.toLowerCase()) {
        throw forbidden('This invite was sent to a different email address');
      }
      const [already] = await tx
        .select({ id: memberships.id })
        .from(memberships)
        .where(and(eq(memberships.teamId, invite.teamId), eq(memberships.userId, viewer.user.id)));
      if (already) throw conflict('You are already a member of this team');
      await tx.update(invites).set({ acceptedAt: this.deps.now() }).where(eq(invites.id, invite.id));
      try {
        await tx.insert(memberships).values({ teamId: invite.teamId, userId: viewer.user.id, role: invite.role });
      } catch (err) {
        // Two different invites to the same team accepted at the same moment.
        if (isUniqueViolation(err)) throw conflict('You are already a member of this team');
        throw err;
      }
      const [team] = await tx.select().from(teams).where(eq(teams.id, invite.teamId));
      if (!team) throw notFound('Team');
      return { team, role: invite.role };
    });
    this.publish({ teamId: result.team.id, userId: viewer.user.id, kind: 'JOINED', role: result.role });
    return result;
  }

  /**
   * Sign-up with an invite (UserService.signUp): the invite is locked, checked (pending, unexpired, sent to `email`),
   * the account made and the invite accepted for it, all in one transaction. Every failure is the same null, so the
   * caller's answer cannot tell an unknown token from a taken address.
   */
  async joinAtSignUp(
    token: string,
    email: string,
    createAccount: (tx: Tx) => Promise<User | undefined>,
  ): Promise<{ user: User; joined: JoinedTeam } | null> {
    const result = await this.deps.db.transaction(async (tx) => {
      const [row] = await tx
        .select({ invite: invites, team: teams })
        .from(invites)
        .innerJoin(teams, eq(teams.id, invites.teamId))
        .where(eq(invites.tokenHash, sha256Hex(token)))
        .for('update', { of: invites });
      if (!row) return null;
      const { invite, team } = row;
      if (invite.acceptedAt || invite.expiresAt <= this.deps.now()) return null;
      if (invite.email.toLowerCase() !== email.toLowerCase()) return null;
      const user = await createAccount(tx);
      if (!user) return null;
      await tx.update(invites).set({ acceptedAt: this.deps.now() }).where(eq(invites.id, invite.id));
      await tx.insert(memberships).values({ teamId: team.id, userId: user.id, role: invite.role });
      return { user, joined: { team, role: invite.role } };
    });
    if (result)
      this.publish({ teamId: result.joined.team.id, userId: result.user.id, kind: 'JOINED', role: result.joined.role });
    return result;
  }

  /** Admins change roles; only owners touch the owner role; the last owner cannot be demoted. */
  async setMemberRole(meta: RequestMeta, input: unknown): Promise<MemberWithUser> {
    const { teamId, userId, role } = parseInput(setRoleInput, input);
    const actor = await this.requireTeamRole(meta, teamId, 'admin');
    const updated = await this.deps.db.transaction(async (tx) => {
      const target = await this.lockedTarget(tx, teamId, userId);
      if ((target.role === 'owner' || role === 'owner') && actor.role !== 'owner') {
        throw forbidden('Only owners can grant or change the owner role');
      }
      if (target.role === 'owner' && role !== 'owner') await this.ensureAnotherOwner(tx, teamId, userId);
      const [membership] = await tx.update(memberships).set({ role }).where(eq(memberships.id, target.id)).returning();
      const [user] = await tx.select().from(users).where(eq(users.id, userId));
      if (!membership || !user) throw notFound('Member');
      return { membership, user };
    });
    this.publish({ teamId, userId, kind: 'ROLE_CHANGED', role });
    await this.access.publish({ userIds: [userId], reason: 'team role changed' });
    return updated;
  }

  /** Members may leave; admins remove others; only owners remove owners; the last owner stays. */
  async removeMember(meta: RequestMeta, input: unknown): Promise<boolean> {
    const { teamId, userId } = parseInput(memberInput, input);
    const viewer = requireViewer(meta);
    const leaving = userId === viewer.user.id;
    const actor = await this.requireTeamRole(meta, teamId, leaving ? 'viewer' : 'admin');
    await this.deps.db.transaction(async (tx) => {
      const target = await this.lockedTarget(tx, teamId, userId);
      if (target.role === 'owner' && actor.role !== 'owner') throw forbidden('Only owners can remove an owner');
      if (target.role === 'owner') await this.ensureAnotherOwner(tx, teamId, userId);
      await tx.delete(memberships).where(eq(memberships.id, target.id));
    });
    this.publish({ teamId, userId, kind: 'REMOVED', role: null });
    await this.access.publish({ userIds: [userId], reason: 'removed from a team' });
    return true;
  }

  private async membership(teamId: string, userId: string): Promise<Membership | undefined> {
    const [membership] = await this.deps.db
      .select()
      .from(memberships)
      .where(and(eq(memberships.teamId, teamId), eq(memberships.userId, userId)));
    return membership;
  }

  /** Locks the team row so concurrent role changes cannot both remove "another" owner. */
  private async lockedTarget(tx: Tx, teamId: string, userId: string): Promise<Membership> {
    await tx.select({ id: teams.id }).from(teams).where(eq(teams.id, teamId)).for('update');
    const [target] = await tx
      .select()
      .from(memberships)
      .where(and(eq(memberships.teamId, teamId), eq(memberships.userId, userId)));
    if (!target) throw notFound('Member');
    return target;
  }

  private async ensureAnotherOwner(tx: Tx, teamId: string, exceptUserId: string): Promise<void> {
    const owners = await tx
      .select({ userId: memberships.userId })
      .from(memberships)
      .where(and(eq(memberships.teamId, teamId), eq(memberships.role, 'owner')));
    if (!owners.some((o) => o.userId !== exceptUserId)) {
      throw conflict('A team needs at least one owner: make someone else owner first');
    }
  }

  private publish(change: TeamMembersChange): void {
    this.events.publish(teamMembersChannel(change.teamId), change);
  }
}
