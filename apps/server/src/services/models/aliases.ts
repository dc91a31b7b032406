import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import {
  aliasEvents,
  modelAliases,
  models,
  modelVersions,
  type AliasEvent,
  type ModelAlias,
  type ModelVersion,
} from '@dapple/db';
import { z } from 'zod';
import { requireViewer } from '../auth/index.ts';
import { badInput } from '../errors.ts';
import type { RequestMeta, ServiceDeps, Tx } from '../types.ts';
import { parseInput } from '../validation.ts';
import type { ModelAccessService } from './access.ts';

export const LATEST_ALIAS = 'latest';
const ALIAS_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const aliasName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(ALIAS_PATTERN, 'must be 1–63 lowercase letters, digits, dots, dashes or underscores');

/**
 * A model's aliases (`latest`, `production`, …: names pointing at one of its versions) and their audit log
 * (alias_events: who moved which alias from which version to which, and why). `latest` is moved by publish
 * and by deleting a version; users set and remove the others.
 */
export class ModelAliasService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly access: ModelAccessService,
  ) {}

  /** list() of many models in one query, in the order of `modelIds` (for the GraphQL dataloaders). */
  async listOfModels(modelIds: readonly string[]): Promise<ModelAlias[][]> {
    const rows = await this.deps.db
      .select()
      .from(modelAliases)
      .where(inArray(modelAliases.modelId, [...modelIds]))
      .orderBy(asc(modelAliases.name));
    const byModel = new Map<string, ModelAlias[]>(modelIds.map((id) => [id, []]));
    for (const row of rows) byModel.get(row.modelId)?.push(row);
    return modelIds.map((id) => byModel.get(id) ?? []);
  }

  list(modelId: string): Promise<ModelAlias[]> {
    return this.deps.db
      .select()
      .from(modelAliases)
      .where(eq(modelAliases.modelId, modelId))
      .orderBy(asc(modelAliases.name));
  }

  events(modelId: string, first = 100): Promise<AliasEvent[]> {
    return this.deps.db
      .select()
      .from(aliasEvents)
      .where(eq(aliasEvents.modelId, modelId))
      .orderBy(desc(aliasEvents.id))
      .limit(Math.min(first, 500));
  }

  /** Points alias `name` at a version of the model (creating the alias), recording who moved it from where. */
  async set(meta: RequestMeta, modelId: string, name: string, versionId: string): Promise<ModelAlias> {
    const viewer = requireViewer(meta);
    const alias = parseInput(z.object({ name: aliasName }), { name }).name;
    await this.access.requireModelAccess(meta, modelId, 'alias');
    const [version] = z.uuid().safeParse(versionId).success
      ? await this.deps.db
          .select()
          .from(modelVersions)
          .where(and(eq(modelVersions.id, versionId), eq(modelVersions.modelId, modelId)))
      : [];
    if (!version) throw badInput('versionId', `versionId: model ${modelId} has no version ${versionId}`);
    return this.deps.db.transaction((tx) => this.move(tx, modelId, alias, version, viewer.user.id, 'set by user'));
  }

  /** Removes a user-defined alias (`latest` is managed by publish and delete). */
  async remove(meta: RequestMeta, modelId: string, name: string): Promise<boolean> {
    const viewer = requireViewer(meta);
    const alias = parseInput(z.object({ name: aliasName }), { name }).name;
    if (alias === LATEST_ALIAS)
      throw badInput('name', `name: "${LATEST_ALIAS}" always points at the newest version and cannot be removed`);
    await this.access.requireModelAccess(meta, modelId, 'alias');
    return this.deps.db.transaction(async (tx) => {
      const [existing] = await tx
        .select()
        .from(modelAliases)
        .where(and(eq(modelAliases.modelId, modelId), eq(modelAliases.name, alias)))
        .for('update');
      if (!existing) return false;
      const [from] = await tx
        .select({ number: modelVersions.number })
        .from(modelVersions)
        .where(eq(modelVersions.id, existing.versionId));
      await tx.delete(modelAliases).where(eq(modelAliases.id, existing.id));
      await tx.insert(aliasEvents).values({
        modelId,
        aliasName: alias,
        fromVersionId: existing.versionId,
        fromNumber: from?.number ?? null,
        toVersionId: null,
        toNumber: null,
        reason: 'removed by user',
        actorId: viewer.user.id,
        createdAt: this.deps.now(),
      });
      return true;
    });
  }

  /** Points `name` at `to` inside the caller's transaction and records the move. */
  async move(
    tx: Tx,
    modelId: string,
    name: string,
    to: ModelVersion,
    actorId: string,
    reason: string,
    opts: { onlyForward?: boolean } = {},
  ): Promise<ModelAlias> {
    const now = this.deps.now();
    // Serialises alias changes per model (two first publishes would otherwise both create `latest`).
    await tx.select({ id: models.id }).from(models).where(eq(models.id, modelId)).for('update');
    const [current] = await tx
      .select()
      .from(modelAliases)
      .where(and(eq(modelAliases.modelId, modelId), eq(modelAliases.name, name)))
      .for('update');
    const from = current
      ? (
          await tx
            .select({ number: modelVersions.number })
            .from(modelVersions)
            .where(eq(modelVersions.id, current.versionId))
        )[0]
      : undefined;
    let alias: ModelAlias | undefined;
    if (current) {
      if (current.versionId === to.id) return current;
      // Concurrent publishes commit in any order: `latest` only ever moves to a higher number.
      if (opts.onlyForward && from && from.number > to.number) return current;
      [alias] = await tx
        .update(modelAliases)
        .set({ versionId: to.id, updatedBy: actorId, updatedAt: now })
        .where(eq(modelAliases.id, current.id))
        .returning();
    } else {
      [alias] = await tx
        .insert(modelAliases)
        .values({ modelId, name, versionId: to.id, updatedBy: actorId })
        .returning();
    }
    await tx.insert(aliasEvents).values({
      modelId,
      aliasName: name,
      fromVersionId: current?.versionId ?? null,
      fromNumber: from?.number ?? null,
      toVersionId: to.id,
      toNumber: to.number,
      reason,
      actorId,
      createdAt: now,
    });
    return alias!;
  }

  /** Removes `latest` when its model's last version is deleted (inside the caller's transaction), audited. */
  async dropLatest(tx: Tx, deleted: ModelVersion, actorId: string): Promise<void> {
    await tx
      .delete(modelAliases)
      .where(and(eq(modelAliases.modelId, deleted.modelId), eq(modelAliases.name, LATEST_ALIAS)));
    await tx.insert(aliasEvents).values({
      modelId: deleted.modelId,
      aliasName: LATEST_ALIAS,
      fromVersionId: deleted.id,
      fromNumber: deleted.number,
      reason: `version ${deleted.number} deleted; no version left`,
      actorId,
      createdAt: this.deps.now(),
    });
  }
}
