/**
 * Sharing a model with users and teams, and anonymous share links (`dpl_share_…`, read + sample of one
 * model; only the SHA-256 is stored; the token is shown once). Only team admins/owners share or create links.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import {
  MODEL_SHARE_ROLES,
  modelShares,
  shareLinks,
  teams,
  users,
  type Model,
  type ModelShare,
  type ShareLink,
} from '@dapple/db';
import { randomSecret, sha256Hex, requireViewer, type AccessEvents } from '../auth/index.ts';
import { badInput, notFound } from '../errors.ts';
import { SHARE_TOKEN_PREFIX, type ModelAccess, type ModelAccessService } from './access.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import { parseInput } from '../validation.ts';
import { z } from 'zod';

export const MAX_SHARE_LINK_HOURS = 24 * 365;
const DISPLAY_LENGTH = SHARE_TOKEN_PREFIX.length + 6;

const shareInput = z
  .object({
    modelId: z.uuid('must be a valid model id'),
    teamId: z.uuid('must be a valid team id').optional(),
    userEmail: z.string().trim().toLowerCase().pipe(z.email('must be a valid email address')).optional(),
    role: z.enum(MODEL_SHARE_ROLES),
  })
  .refine((v) => (v.teamId === undefined) !== (v.userEmail === undefined), {
    message: 'give exactly one of teamId or userEmail',
    path: ['teamId'],
  });
const unshareInput = z
  .object({ modelId: z.uuid('must be a valid model id'), teamId: z.uuid().optional(), userId: z.uuid().optional() })
  .refine((v) => (v.teamId === undefined) !== (v.userId === undefined), {
    message: 'give exactly one of teamId or userId',
    path: ['teamId'],
  });
const linkInput = z.object({
  modelId: z.uuid('must be a valid model id'),
  expiresInHours: z
    .number()
    .int()
    .min(1, 'must be at least 1 hour')
    .max(MAX_SHARE_LINK_HOURS, `must be at most ${MAX_SHARE_LINK_HOURS} hours (one year)`),
});

export interface ShareWithGrantee {
  share: ModelShare;
  userEmail: string | null;
  userName: string | null;
  teamName: string | null;
}

export class ShareService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly access: ModelAccessService,
    private readonly accessEvents: AccessEvents,
  ) {}

  /** Grants (or changes) a user's or a team's role on the model. */
  async share(meta: RequestMeta, input: unknown): Promise<ModelShare> {
    const viewer = requireViewer(meta);
    const p = parseInput(shareInput, stripNulls(input));
    const { model } = await this.access.requireModelAccess(meta, p.modelId, 'share');
    let grantee: { granteeUserId: string } | { granteeTeamId: string };
    if (p.userEmail) {
      const [user] = await this.deps.db
        .select({ id: users.id })
        .from(users)
        .where(eq(sql`lower(${users.email})`, p.userEmail));
      if (!user)
        throw badInput('userEmail', `userEmail: no user with the address ${p.userEmail} has an account on this hub`);
      grantee = { granteeUserId: user.id };
    } else {
      const [team] = await this.deps.db.select({ id: teams.id }).from(teams).where(eq(teams.id, p.teamId!));
      if (!team) throw badInput('teamId', `teamId: no team ${p.teamId}`);
      if (team.id === model.teamId) throw badInput('teamId', 'teamId: the model already belongs to this team');
      grantee = { granteeTeamId: team.id };
    }
    const where =
      'granteeUserId' in grantee
        ? and(eq(modelShares.modelId, model.id), eq(modelShares.granteeUserId, grantee.granteeUserId))
        : and(eq(modelShares.modelId, model.id), eq(modelShares.granteeTeamId, grantee.granteeTeamId));
    return this.deps.db.transaction(async (tx) => {
      const [existing] = await tx.select().from(modelShares).where(where).for('update');
      if (existing) {
        const [updated] = await tx
          .update(modelShares)
          .set({ role: p.role })
          .where(eq(modelShares.id, existing.id))
          .returning();
        return updated!;
      }
      const [created] = await tx
        .insert(modelShares)
        .values({ modelId: model.id, ...grantee, role: p.role, createdBy: viewer.user.id })
        .returning();
      return created!;
    });
  }

  async unshare(meta: RequestMeta, input: unknown): Promise<boolean> {
    const p = parseInput(unshareInput, stripNulls(input));
    await this.access.requireModelAccess(meta, p.modelId, 'share');
    const deleted = await this.deps.db
      .delete(modelShares)
      .where(
        and(
          eq(modelShares.modelId, p.modelId),
          p.userId ? eq(modelShares.granteeUserId, p.userId) : eq(modelShares.granteeTeamId, p.teamId!),
        ),
      )
      .returning({ id: modelShares.id });
    // A team grantee's members are not listed here: every stream re-checks.
    if (deleted.length > 0)
      await this.accessEvents.publish(
        p.userId ? { userIds: [p.userId], reason: 'model unshared' } : { all: true, reason: 'model unshared' },
      );
    return deleted.length > 0;
  }

  async shares(modelId: string): Promise<ShareWithGrantee[]> {
    return this.deps.db
      .select({ share: modelShares, userEmail: users.email, userName: users.name, teamName: teams.name })
      .from(modelShares)
      .leftJoin(users, eq(users.id, modelShares.granteeUserId))
      .leftJoin(teams, eq(teams.id, modelShares.granteeTeamId))
      .where(eq(modelShares.modelId, modelId))
      .orderBy(desc(modelShares.createdAt));
  }

  /** A new link; `token` is returned only here. */
  async createLink(meta: RequestMeta, input: unknown): Promise<{ link: ShareLink; token: string }> {
    const viewer = requireViewer(meta);
    const p = parseInput(linkInput, input);
    const { model } = await this.access.requireModelAccess(meta, p.modelId, 'share');
    const token = SHARE_TOKEN_PREFIX + randomSecret();
    const [link] = await this.deps.db
      .insert(shareLinks)
      .values({
        modelId: model.id,
        tokenHash: sha256Hex(token),
        prefix: token.slice(0, DISPLAY_LENGTH),
        expiresAt: new Date(this.deps.now().getTime() + p.expiresInHours * 3_600_000),
        createdBy: viewer.user.id,
      })
      .returning();
    return { link: link!, token };
  }

  /** Revoking twice is fine; the link stops working at once. */
  async revokeLink(meta: RequestMeta, linkId: string): Promise<ShareLink> {
    if (!z.uuid().safeParse(linkId).success) throw notFound('Share link');
    const [link] = await this.deps.db.select().from(shareLinks).where(eq(shareLinks.id, linkId));
    if (!link) throw notFound('Share link');
    await this.access.requireModelAccess(meta, link.modelId, 'share');
    if (link.revokedAt) return link;
    const [revoked] = await this.deps.db
      .update(shareLinks)
      .set({ revokedAt: this.deps.now() })
      .where(eq(shareLinks.id, link.id))
      .returning();
    await this.accessEvents.publish({ all: true, reason: 'share link revoked' });
    return revoked!;
  }

  isActive(link: ShareLink): boolean {
    return !link.revokedAt && link.expiresAt.getTime() > this.deps.now().getTime();
  }

  links(modelId: string): Promise<ShareLink[]> {
    return this.deps.db
      .select()
      .from(shareLinks)
      .where(eq(shareLinks.modelId, modelId))
      .orderBy(desc(shareLinks.createdAt));
  }

  /** Anonymous read-only access through a link: the model and a read/sample-only access. */
  async sharedModel(meta: RequestMeta, token: string): Promise<{ model: Model; access: ModelAccess }> {
    const link = await this.access.resolveShareToken(token);
    const access = await this.access.requireModelAccess(meta, link.modelId, 'read', { shareToken: token });
    return { model: access.model, access };
  }
}

function stripNulls(input: unknown): unknown {
  if (!input || typeof input !== 'object') return input;
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined));
}
