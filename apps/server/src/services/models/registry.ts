/**
 * The model registry: models and their immutable versions — listing, settings, deleting. Publishing lives in
 * publish.ts, aliases in aliases.ts, files and export in files.ts. Authorisation goes through
 * ModelAccessService.requireModelAccess (see access.ts for the rules and for how share-link tokens are passed:
 * a `shareToken` argument).
 *
 * Objects of a version live under `models/<modelId>/v<n>/` (model.json, weights.bin, config.json,
 * model-card.md, grid.png, export.zip, and sample results under samples/); deleting the version deletes that
 * prefix, deleting the model deletes `models/<modelId>/`.
 */
import { and, desc, eq, ilike, inArray, or, sql, type SQL } from 'drizzle-orm';
import {
  MODEL_VISIBILITIES,
  memberships,
  modelAliases,
  models,
  modelShares,
  modelVersions,
  sampleJobs,
  users,
  type Model,
  type ModelVersion,
} from '@dapple/db';
import type { ObjectStore } from '@dapple/storage';
import { z } from 'zod';
import { requireViewer, type AccessEvents } from '../auth/index.ts';
import { conflict, notFound } from '../errors.ts';
import type { TeamService } from '../teams/index.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import { parseInput } from '../validation.ts';
import type { ModelAccessService } from './access.ts';
import { LATEST_ALIAS, type ModelAliasService } from './aliases.ts';
import { modelPrefix } from './artifacts.ts';

const updateInput = z.object({
  id: z.uuid('must be a valid model id'),
  description: z.string().max(2000, 'must be at most 2000 characters').optional(),
  visibility: z.enum(MODEL_VISIBILITIES).optional(),
});

export class ModelService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly store: ObjectStore,
    private readonly access: ModelAccessService,
    private readonly aliases: ModelAliasService,
    private readonly teams: TeamService,
    private readonly accessEvents: AccessEvents,
  ) {}

  /** Models of the team the caller may read, plus models shared with the caller or with the team. */
  async list(
    meta: RequestMeta,
    teamId: string,
    opts: { search?: string | null; includeShared?: boolean | null; first?: number | null },
  ): Promise<Model[]> {
    const viewer = requireViewer(meta);
    await this.teams.requireTeamRole(meta, teamId, 'viewer');
    const limit = Math.max(1, Math.min(opts.first ?? 50, 200));
    const sharedIds = this.deps.db
      .select({ id: modelShares.modelId })
      .from(modelShares)
      .where(
        or(
          eq(modelShares.granteeUserId, viewer.user.id),
          eq(modelShares.granteeTeamId, teamId),
          inArray(
            modelShares.granteeTeamId,
            this.deps.db
              .select({ t: memberships.teamId })
              .from(memberships)
              .where(eq(memberships.userId, viewer.user.id)),
          ),
        ),
      );
    const scope: SQL =
      opts.includeShared === false
        ? eq(models.teamId, teamId)
        : or(eq(models.teamId, teamId), inArray(models.id, sharedIds))!;
    const conditions: SQL[] = [scope];
    if (opts.search?.trim()) conditions.push(ilike(models.name, `%${opts.search.trim().replace(/[\\%_]/g, '\\$&')}%`));
    const rows = await this.deps.db
      .select()
      .from(models)
      .where(and(...conditions))
      .orderBy(desc(models.updatedAt), desc(models.id))
      .limit(limit * 2);
    const visible: Model[] = [];
    for (const m of rows) {
      if (visible.length >= limit) break;
      if ((await this.access.accessTo(meta, m)).can('read')) visible.push(m);
    }
    return visible;
  }

  /** versions() of many models in one query, in the order of `modelIds` (for the GraphQL dataloaders). */
  async versionsOfModels(modelIds: readonly string[]): Promise<ModelVersion[][]> {
    const rows = await this.deps.db
      .select()
      .from(modelVersions)
      .where(inArray(modelVersions.modelId, [...modelIds]))
      .orderBy(desc(modelVersions.number));
    const byModel = new Map<string, ModelVersion[]>(modelIds.map((id) => [id, []]));
    for (const row of rows) byModel.get(row.modelId)?.push(row);
    return modelIds.map((id) => byModel.get(id) ?? []);
  }

  /**
   * The versions published from each run with their models (newest first), in the order of `runIds` (for the
   * GraphQL dataloaders). Unfiltered: the caller checks what the viewer may read of each model.
   */
  async versionsOfRuns(runIds: readonly string[]): Promise<{ version: ModelVersion; model: Model }[][]> {
    const rows = await this.deps.db
      .select({ version: modelVersions, model: models })
      .from(modelVersions)
      .innerJoin(models, eq(models.id, modelVersions.modelId))
      .where(inArray(modelVersions.runId, [...runIds]))
      .orderBy(desc(modelVersions.createdAt), desc(modelVersions.number));
    const byRun = new Map<string, { version: ModelVersion; model: Model }[]>(runIds.map((id) => [id, []]));
    for (const row of rows) byRun.get(row.version.runId)?.push(row);
    return runIds.map((id) => byRun.get(id) ?? []);
  }

  versions(modelId: string): Promise<ModelVersion[]> {
    return this.deps.db
      .select()
      .from(modelVersions)
      .where(eq(modelVersions.modelId, modelId))
      .orderBy(desc(modelVersions.number));
  }

  async update(meta: RequestMeta, input: unknown): Promise<Model> {
    const p = parseInput(updateInput, input);
    // Visibility widens or narrows who sees the model: an admin decision, like sharing.
    await this.access.requireModelAccess(meta, p.id, p.visibility !== undefined ? 'share' : 'publish');
    const [model] = await this.deps.db
      .update(models)
      .set({
        ...(p.description !== undefined ? { description: p.description } : {}),
        ...(p.visibility ? { visibility: p.visibility } : {}),
      })
      .where(eq(models.id, p.id))
      .returning();
    if (!model) throw notFound('Model');
    if (p.visibility) await this.accessEvents.publish({ all: true, reason: 'model visibility changed' });
    return model;
  }

  /**
   * Deletes a version and every object under its prefix (weights, card, grid, export, sample results).
   * `latest` moves to the newest remaining version (audited; removed when none remains). A user-defined alias
   * pointing at the version refuses the delete (CONFLICT naming it): move or remove it first.
   */
  async deleteVersion(meta: RequestMeta, versionId: string): Promise<{ modelId: string; deletedObjects: number }> {
    const viewer = requireViewer(meta);
    const { version } = await this.access.requireVersionAccess(meta, versionId, 'delete');
    const extraKeys = await this.deps.db.transaction(async (tx) => {
      await tx.select({ id: models.id }).from(models).where(eq(models.id, version.modelId)).for('update');
      const pointing = await tx.select().from(modelAliases).where(eq(modelAliases.versionId, version.id));
      const blocking = pointing.filter((a) => a.name !== LATEST_ALIAS).map((a) => a.name);
      if (blocking.length) {
        throw conflict(
          `Version ${version.number} is the target of alias${blocking.length > 1 ? 'es' : ''} ${blocking.map((b) => `"${b}"`).join(', ')}; move or remove ${blocking.length > 1 ? 'them' : 'it'} first`,
          'versionId',
        );
      }
      if (pointing.length) {
        const [next] = await tx
          .select()
          .from(modelVersions)
          .where(and(eq(modelVersions.modelId, version.modelId), sql`${modelVersions.id} <> ${version.id}`))
          .orderBy(desc(modelVersions.number))
          .limit(1);
        if (next)
          await this.aliases.move(
            tx,
            version.modelId,
            LATEST_ALIAS,
            next,
            viewer.user.id,
            `version ${version.number} deleted`,
          );
        else await this.aliases.dropLatest(tx, version, viewer.user.id);
      }
      const jobs = await tx
        .select({ keys: sampleJobs.resultKeys })
        .from(sampleJobs)
        .where(eq(sampleJobs.modelVersionId, version.id));
      await tx.delete(modelVersions).where(eq(modelVersions.id, version.id));
      return jobs.flatMap((j) => j.keys).filter((k) => !k.startsWith(version.objectPrefix));
    });
    let deleted = await this.store.deletePrefix(version.objectPrefix);
    for (const key of extraKeys) {
      await this.store.delete(key);
      deleted++;
    }
    return { modelId: version.modelId, deletedObjects: deleted };
  }

  /** Deletes the model, all its versions, aliases, shares and links, and every object under `models/<id>/`. */
  async deleteModel(meta: RequestMeta, modelId: string): Promise<{ deletedObjects: number }> {
    const { model } = await this.access.requireModelAccess(meta, modelId, 'delete');
    const extraKeys = await this.deps.db.transaction(async (tx) => {
      const jobs = await tx
        .select({ keys: sampleJobs.resultKeys })
        .from(sampleJobs)
        .innerJoin(modelVersions, eq(modelVersions.id, sampleJobs.modelVersionId))
        .where(eq(modelVersions.modelId, model.id));
      await tx.delete(models).where(eq(models.id, model.id));
      return jobs.flatMap((j) => j.keys).filter((k) => !k.startsWith(modelPrefix(model.id)));
    });
    let deleted = await this.store.deletePrefix(modelPrefix(model.id));
    for (const key of extraKeys) {
      await this.store.delete(key);
      deleted++;
    }
    return { deletedObjects: deleted };
  }

  /** creatorName() of many users in one query, in the order of `userIds`. */
  async creatorNames(userIds: readonly string[]): Promise<(string | null)[]> {
    const rows = await this.deps.db
      .select({ id: users.id, name: users.name, email: users.email })
      .from(users)
      .where(inArray(users.id, [...userIds]));
    const byId = new Map(rows.map((u) => [u.id, u.name || u.email]));
    return userIds.map((id) => byId.get(id) ?? null);
  }

  async creatorName(userId: string | null): Promise<string | null> {
    if (!userId) return null;
    const [u] = await this.deps.db
      .select({ name: users.name, email: users.email })
      .from(users)
      .where(eq(users.id, userId));
    return u ? u.name || u.email : null;
  }

  /** Versions published from a run (the runs service refuses to delete such a run). */
  async versionsOfRun(runId: string): Promise<ModelVersion[]> {
    return this.deps.db.select().from(modelVersions).where(eq(modelVersions.runId, runId));
  }
}
