/**
 * The one authorisation check for models (`requireModelAccess`) and share-link resolution.
 *
 * FOR THE SAMPLING / EVALUATION CODE: a share link travels as an explicit `shareToken` argument
 * (GraphQL `shareToken: String` on generateSamples, modelVersion, exportModelVersion, sampleJob…), never as
 * a header or cookie, so a link can never widen what a signed-in session may do. Call
 *   `const { version, model, access } = await services.modelAccess.requireVersionAccess(ctx, versionId, 'sample', { shareToken })`
 * and use `access.principal` for `sample_jobs.requested_by` / `share_link_id` and `access.quotaTeamId` for
 * `sample_jobs.team_id` (the team whose concurrency limit the job counts against).
 */
import { and, eq, inArray, isNull, or } from 'drizzle-orm';
import {
  memberships,
  models,
  modelShares,
  modelVersions,
  shareLinks,
  type Model,
  type ModelShareRole,
  type ModelVersion,
  type ShareLink,
  type TeamRole,
} from '@dapple/db';
import { z } from 'zod';
import { sha256Hex } from '../auth/index.ts';
import { forbidden, isServiceError, notFound, unauthenticated } from '../errors.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';

export type ModelNeed = 'read' | 'sample' | 'publish' | 'alias' | 'share' | 'delete';
export const MODEL_NEEDS: readonly ModelNeed[] = ['read', 'sample', 'publish', 'alias', 'share', 'delete'];

export const SHARE_TOKEN_PREFIX = 'dpl_share_';

/** Who is acting on a model. */
export type ModelPrincipal =
  | { kind: 'user'; userId: string; teamRole: TeamRole | null; shareRole: ModelShareRole | null; isCreator: boolean }
  | { kind: 'shareLink'; shareLinkId: string };

export interface ModelAccess {
  model: Model;
  principal: ModelPrincipal;
  /** Everything this principal may do on this model. */
  allowed: ReadonlySet<ModelNeed>;
  can(need: ModelNeed): boolean;
  /** The team whose quotas work done for this principal counts against (the caller's own team when it has one here). */
  quotaTeamId: string;
}

const READ_SAMPLE: ModelNeed[] = ['read', 'sample'];
const EDITOR: ModelNeed[] = [...READ_SAMPLE, 'publish', 'alias'];
const ADMIN: ModelNeed[] = [...EDITOR, 'share', 'delete'];

/**
 * The rules, in one place:
 * - team owner/admin: everything (only they share, create links, delete, change visibility);
 * - team member: read, sample, publish versions, move aliases — not on `private` models unless they created it;
 * - team viewer: read and sample — not on `private` models;
 * - a share with role editor: like a member; with role viewer: like a viewer (shares ignore visibility);
 * - `public` models: every signed-in user may read and sample;
 * - a share link: read and sample of its one model, until revoked or expired.
 */
export function permissionsFor(model: Model, p: ModelPrincipal): Set<ModelNeed> {
  if (p.kind === 'shareLink') return new Set(READ_SAMPLE);
  const out = new Set<ModelNeed>();
  const add = (needs: ModelNeed[]) => needs.forEach((n) => out.add(n));
  if (p.teamRole === 'owner' || p.teamRole === 'admin') add(ADMIN);
  else if (p.teamRole && (model.visibility !== 'private' || p.isCreator))
    add(p.teamRole === 'member' ? EDITOR : READ_SAMPLE);
  if (p.shareRole) add(p.shareRole === 'editor' ? EDITOR : READ_SAMPLE);
  if (model.visibility === 'public') add(READ_SAMPLE);
  return out;
}

const SHARE_ROLE_ORDER: ModelShareRole[] = ['viewer', 'editor'];

export class ModelAccessService {
  constructor(private readonly deps: ServiceDeps) {}

  /**
   * The model and what the caller may do with it, or: NOT_FOUND when it does not exist or the caller may not
   * even read it (existence is not leaked); FORBIDDEN naming the missing permission otherwise; UNAUTHENTICATED
   * for anonymous callers without a share token; FORBIDDEN for a revoked or expired share link.
   */
  async requireModelAccess(
    meta: RequestMeta,
    modelId: string,
    need: ModelNeed,
    opts: { shareToken?: string | null } = {},
  ): Promise<ModelAccess> {
    const model = await this.modelRow(modelId);
    const access = await this.accessTo(meta, model, opts.shareToken);
    return this.check(access, need);
  }

  /** requireModelAccess for the model of a version. */
  async requireVersionAccess(
    meta: RequestMeta,
    versionId: string,
    need: ModelNeed,
    opts: { shareToken?: string | null } = {},
  ): Promise<{ version: ModelVersion; model: Model; access: ModelAccess }> {
    if (!z.uuid().safeParse(versionId).success) throw notFound('Model version');
    const [row] = await this.deps.db
      .select({ version: modelVersions, model: models })
      .from(modelVersions)
      .innerJoin(models, eq(models.id, modelVersions.modelId))
      .where(eq(modelVersions.id, versionId));
    if (!row) throw notFound('Model version');
    const access = await this.accessTo(meta, row.model, opts.shareToken).catch((err: unknown) => {
      throw isServiceError(err, 'NOT_FOUND') ? notFound('Model version') : err;
    });
    try {
      return { ...row, access: this.check(access, need) };
    } catch (err) {
      throw isServiceError(err, 'NOT_FOUND') ? notFound('Model version') : err;
    }
  }

  /** What the caller may do; throws only for a bad share token. Used to filter lists. */
  async accessTo(meta: RequestMeta, model: Model, shareToken?: string | null): Promise<ModelAccess> {
    if (shareToken) {
      const link = await this.resolveShareToken(shareToken);
      if (link.modelId !== model.id) throw notFound('Model');
      return makeAccess(model, { kind: 'shareLink', shareLinkId: link.id }, model.teamId);
    }
    return (await this.accessToMany(meta, [model]))[0]!;
  }

  /**
   * accessTo for many models of one signed-in caller (no share token), in the order of `models`: two queries in
   * all, for the GraphQL dataloaders (the versions published from a page of runs).
   */
  async accessToMany(meta: Pick<RequestMeta, 'viewer'>, models: readonly Model[]): Promise<ModelAccess[]> {
    const viewer = meta.viewer;
    if (!viewer) throw unauthenticated('Sign in, or pass the shareToken of a share link');
    if (models.length === 0) return [];
    const userId = viewer.user.id;
    const myTeams = await this.deps.db
      .select({ teamId: memberships.teamId, role: memberships.role })
      .from(memberships)
      .where(eq(memberships.userId, userId));
    const teamIds = myTeams.map((m) => m.teamId);
    const shares = await this.deps.db
      .select({ modelId: modelShares.modelId, role: modelShares.role, teamId: modelShares.granteeTeamId })
      .from(modelShares)
      .where(
        and(
          inArray(
            modelShares.modelId,
            models.map((m) => m.id),
          ),
          teamIds.length
            ? or(eq(modelShares.granteeUserId, userId), inArray(modelShares.granteeTeamId, teamIds))
            : eq(modelShares.granteeUserId, userId),
        ),
      );
    return models.map((model) => {
      const teamRole = myTeams.find((m) => m.teamId === model.teamId)?.role ?? null;
      const mine = shares.filter((s) => s.modelId === model.id);
      const shareRole = mine.reduce<ModelShareRole | null>(
        (best, s) =>
          best === null || SHARE_ROLE_ORDER.indexOf(s.role) > SHARE_ROLE_ORDER.indexOf(best) ? s.role : best,
        null,
      );
      // Work for a grantee team counts against that team; otherwise against the model's team.
      const quotaTeamId = teamRole ? model.teamId : (mine.find((s) => s.teamId)?.teamId ?? model.teamId);
      return makeAccess(
        model,
        { kind: 'user', userId, teamRole, shareRole, isCreator: model.createdBy === userId },
        quotaTeamId,
      );
    });
  }

  /**
   * The live share link for a token. FORBIDDEN (with the reason) when it is unknown, revoked or expired —
   * the same code for all three so a guesser learns nothing more than "no".
   */
  async resolveShareToken(token: string): Promise<ShareLink> {
    const trimmed = token.trim();
    if (!trimmed.startsWith(SHARE_TOKEN_PREFIX))
      throw forbidden(`Not a share link token (they start with ${SHARE_TOKEN_PREFIX})`);
    const [link] = await this.deps.db
      .select()
      .from(shareLinks)
      .where(eq(shareLinks.tokenHash, sha256Hex(trimmed)));
    if (!link) throw forbidden('This share link is not valid');
    if (link.revokedAt) throw forbidden('This share link has been revoked');
    if (link.expiresAt.getTime() <= this.deps.now().getTime())
      throw forbidden(`This share link expired at ${link.expiresAt.toISOString()}`);
    // Best effort bookkeeping; a failure here must not deny access.
    await this.deps.db
      .update(shareLinks)
      .set({ lastUsedAt: this.deps.now() })
      .where(and(eq(shareLinks.id, link.id), isNull(shareLinks.revokedAt)))
      .catch(() => undefined);
    return link;
  }

  async modelRow(modelId: string): Promise<Model> {
    if (!z.uuid().safeParse(modelId).success) throw notFound('Model');
    const [model] = await this.deps.db.select().from(models).where(eq(models.id, modelId));
    if (!model) throw notFound('Model');
    return model;
  }

  private check(access: ModelAccess, need: ModelNeed): ModelAccess {
    if (access.can(need)) return access;
    if (!access.can('read')) throw notFound('Model');
    throw forbidden(explain(access, need));
  }
}

function makeAccess(model: Model, principal: ModelPrincipal, quotaTeamId: string): ModelAccess {
  const allowed = permissionsFor(model, principal);
  return { model, principal, allowed, can: (n) => allowed.has(n), quotaTeamId };
}

function explain(access: ModelAccess, need: ModelNeed): string {
  const p = access.principal;
  if (p.kind === 'shareLink') return `A share link allows only reading and sampling this model, not ${need}`;
  const who = p.teamRole ? `team role ${p.teamRole}` : p.shareRole ? `shared as ${p.shareRole}` : 'public access';
  const needs = need === 'share' || need === 'delete' ? 'a team admin or owner' : 'team member or editor access';
  return `Model "${access.model.name}": ${need} needs ${needs}; you have ${who}`;
}
