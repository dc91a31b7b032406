/**
 * The model registry: publish immutable versions from run checkpoints, aliases (audited), listing, delete,
 * export. Authorisation goes through ModelAccessService.requireModelAccess (see model-access.ts for the
 * rules and for how share-link tokens are passed: a `shareToken` argument).
 *
 * Objects of a version live under `models/<modelId>/v<n>/` (model.json, weights.bin, config.json,
 * model-card.md, grid.png, export.zip, and sample results under samples/); deleting the version deletes that
 * prefix, deleting the model deletes `models/<modelId>/`.
 */
import { and, asc, desc, eq, ilike, inArray, or, sql, type SQL } from 'drizzle-orm';
import {
  aliasEvents,
  checkpoints,
  datasets,
  datasetVersions,
  MODEL_VISIBILITIES,
  memberships,
  modelAliases,
  models,
  modelShares,
  modelVersions,
  runs,
  sampleGrids,
  sampleJobs,
  users,
  type AliasEvent,
  type Model,
  type ModelAlias,
  type ModelVersion,
} from '@dapple/db';
import { listMetricKeys, MAX_QUERY_KEYS, queryMetrics } from '@dapple/db/metrics/index';
import { ObjectNotFoundError, type ObjectStore } from '@dapple/storage';
import { z } from 'zod';
import { badInput, conflict, isUniqueViolation, notFound } from '../errors.ts';
import type { Logger } from '../../logger.ts';
import { modelCardMarkdown, modelPrefix, VERSION_FILES, versionPrefix, writeInferenceWeights } from './artifacts.ts';
import type { ModelAccess, ModelAccessService } from './access.ts';
import { poolOf } from '../runs/state.ts';
import type { TeamService } from '../teams/teams.ts';
import { requireViewer } from '../auth/api-tokens.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import { parseInput } from '../validation.ts';
import type { WebhookEmitter } from '../webhooks/webhooks.ts';
import { zipSize, zipStream } from './zip-store.ts';

/** URLs handed out for model files live this long (the DiskStore and S3 allow at most 900 s). */
export const MODEL_URL_TTL_SEC = 600;
export const LATEST_ALIAS = 'latest';
const ALIAS_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;

const uuid = (what: string) => z.uuid(`must be a valid ${what} id`);
const modelName = z
  .string()
  .trim()
  .regex(
    MODEL_NAME_PATTERN,
    'must be 1–100 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit',
  );
const publishInput = z
  .object({
    runId: uuid('run'),
    step: z.number().int().min(0, 'must be ≥ 0'),
    modelId: uuid('model').optional(),
    modelName: modelName.optional(),
    notes: z.string().max(10_000, 'must be at most 10000 characters').default(''),
    description: z.string().max(2000, 'must be at most 2000 characters').optional(),
    precision: z.enum(['float16', 'float32']).default('float16'),
  })
  .refine((v) => (v.modelId === undefined) !== (v.modelName === undefined), {
    message: 'give exactly one of modelId or modelName',
    path: ['modelId'],
  });
const aliasName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(ALIAS_PATTERN, 'must be 1–63 lowercase letters, digits, dots, dashes or underscores');
const updateInput = z.object({
  id: uuid('model'),
  description: z.string().max(2000, 'must be at most 2000 characters').optional(),
  visibility: z.enum(MODEL_VISIBILITIES).optional(),
});

export interface PublishResult {
  model: Model;
  version: ModelVersion;
}

export interface VersionFileUrls {
  modelJsonUrl: string;
  weightsUrl: string;
  configUrl: string;
  cardUrl: string;
  expiresAt: Date;
}

export class ModelService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly store: ObjectStore,
    private readonly access: ModelAccessService,
    private readonly teams: TeamService,
    private readonly webhooks: WebhookEmitter,
  ) {}

  /**
   * Publishes the run's checkpoint at `step` as the next version of a model (an existing one by id, or by
   * name in the run's team, created when missing), then moves `latest` to it.
   */
  async publish(meta: RequestMeta, input: unknown, log?: Logger): Promise<PublishResult> {
    const viewer = requireViewer(meta);
    const p = parseInput(publishInput, input);
    const [run] = await this.deps.db.select().from(runs).where(eq(runs.id, p.runId));
    if (!run) throw badInput('runId', `runId: no run ${p.runId}`);
    await this.teams.requireTeamRole(meta, run.teamId, 'viewer');
    const [ckpt] = await this.deps.db
      .select()
      .from(checkpoints)
      .where(and(eq(checkpoints.runId, run.id), eq(checkpoints.step, p.step)));
    if (!ckpt) {
      const steps = (
        await this.deps.db
          .select({ step: checkpoints.step })
          .from(checkpoints)
          .where(eq(checkpoints.runId, run.id))
          .orderBy(asc(checkpoints.step))
      ).map((c) => c.step);
      throw badInput(
        'step',
        `step: run "${run.name}" has no checkpoint at step ${p.step}; available: ${steps.length ? steps.join(', ') : 'none'}`,
      );
    }

    let model: Model;
    if (p.modelId) {
      model = (await this.access.requireModelAccess(meta, p.modelId, 'publish')).model;
      if (model.teamId !== run.teamId)
        throw badInput(
          'runId',
          `runId: run "${run.name}" belongs to another team than model "${model.name}"; publish runs of the model's own team`,
        );
    } else {
      model = await this.findOrCreateModel(meta, run.teamId, p.modelName!, p.description ?? '', viewer.user.id);
    }

    // Reserve the number first: numbers are never reused, so a failed publish leaves a gap, never a clash.
    const [bumped] = await this.deps.db
      .update(models)
      .set({ lastVersionNumber: sql`${models.lastVersionNumber} + 1` })
      .where(eq(models.id, model.id))
      .returning({ n: models.lastVersionNumber });
    if (!bumped) throw notFound('Model');
    const number = bumped.n;
    const prefix = versionPrefix(model.id, number);
    try {
      const dataset = await this.datasetOf(run.datasetVersionId);
      const files = await writeInferenceWeights(this.store, ckpt.objectPrefix, prefix, {
        precision: p.precision,
        labelNames: dataset?.labelNames ?? [],
      }).catch((err: unknown) => {
        // The trainer keeps only the last K checkpoints: this one may have been pruned a moment ago.
        if (err instanceof ObjectNotFoundError)
          throw conflict(
            `The checkpoint of step ${p.step} of run "${run.name}" is gone from the object store (pruned while publishing); pick a newer step`,
            'step',
          );
        throw err;
      });
      const metrics = await this.metricsSnapshot(run.id, p.step);
      const grid = await this.copyNearestGrid(run.id, p.step, prefix);
      const labelNames = files.labelNames;
      const now = this.deps.now();
      const card = modelCardMarkdown({
        modelName: model.name,
        description: p.description ?? model.description,
        number,
        runName: run.name,
        runId: run.id,
        step: p.step,
        totalSteps: run.totalSteps,
        datasetName: dataset?.name ?? null,
        datasetVersionHash: dataset?.hash ?? null,
        config: files.config,
        resolution: files.resolution,
        channels: files.channels,
        labelNames,
        metrics,
        notes: p.notes,
        fromEma: files.fromEma,
        publishedBy: viewer.user.name || viewer.user.email,
        publishedAt: now,
      });
      const configJson = Buffer.from(
        JSON.stringify(
          { ...files.config, resolution: files.resolution, channels: files.channels, labelNames },
          null,
          2,
        ),
      );
      await this.store.put(`${prefix}${VERSION_FILES.config}`, configJson, {
        size: configJson.length,
        contentType: 'application/json',
      });
      const cardBytes = Buffer.from(card);
      await this.store.put(`${prefix}${VERSION_FILES.card}`, cardBytes, {
        size: cardBytes.length,
        contentType: 'text/markdown; charset=utf-8',
      });

      const version = await this.deps.db.transaction(async (tx) => {
        // Lock the model first: the version insert's foreign key takes a share lock on this row, and upgrading it
        // later (moveAlias locks it FOR UPDATE) deadlocked concurrent publishes.
        await tx.select({ id: models.id }).from(models).where(eq(models.id, model.id)).for('update');
        const [version] = await tx
          .insert(modelVersions)
          .values({
            modelId: model.id,
            number,
            runId: run.id,
            step: p.step,
            objectPrefix: prefix,
            weightsDtype: p.precision,
            weightsBytes: files.weightsBytes,
            config: files.config,
            resolution: files.resolution,
            channels: files.channels,
            labelNames,
            datasetVersionId: run.datasetVersionId,
            datasetVersionHash: dataset?.hash ?? null,
            metrics,
            sampleGridKey: grid?.key ?? null,
            sampleGridStep: grid?.step ?? null,
            modelCard: card,
            notes: p.notes,
            createdBy: viewer.user.id,
            createdAt: now,
          })
          .returning();
        if (!version) throw new Error('insert into model_versions returned no row');
        await this.moveAlias(tx, model.id, LATEST_ALIAS, version, viewer.user.id, 'published', { onlyForward: true });
        await tx.update(models).set({ updatedAt: now }).where(eq(models.id, model.id));
        return version;
      });
      await this.webhooks.emit(model.teamId, 'model.published', {
        model: { id: model.id, name: model.name },
        version: { id: version.id, number: version.number, runId: run.id, step: p.step },
        publishedBy: viewer.user.id,
      });
      return { model, version };
    } catch (err) {
      // Nothing half-published stays behind.
      await this.store
        .deletePrefix(prefix)
        .catch((e: unknown) => log?.warn({ err: e, prefix }, 'could not clean up a failed publish'));
      throw err;
    }
  }

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

  versions(modelId: string): Promise<ModelVersion[]> {
    return this.deps.db
      .select()
      .from(modelVersions)
      .where(eq(modelVersions.modelId, modelId))
      .orderBy(desc(modelVersions.number));
  }

  aliases(modelId: string): Promise<ModelAlias[]> {
    return this.deps.db
      .select()
      .from(modelAliases)
      .where(eq(modelAliases.modelId, modelId))
      .orderBy(asc(modelAliases.name));
  }

  aliasEvents(modelId: string, first = 100): Promise<AliasEvent[]> {
    return this.deps.db
      .select()
      .from(aliasEvents)
      .where(eq(aliasEvents.modelId, modelId))
      .orderBy(desc(aliasEvents.id))
      .limit(Math.min(first, 500));
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
    return model;
  }

  /** Points alias `name` at a version of the model (creating the alias), recording who moved it from where. */
  async setAlias(meta: RequestMeta, modelId: string, name: string, versionId: string): Promise<ModelAlias> {
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
    return this.deps.db.transaction((tx) => this.moveAlias(tx, modelId, alias, version, viewer.user.id, 'set by user'));
  }

  /** Removes a user-defined alias (`latest` is managed by publish and delete). */
  async removeAlias(meta: RequestMeta, modelId: string, name: string): Promise<boolean> {
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
          await this.moveAlias(
            tx,
            version.modelId,
            LATEST_ALIAS,
            next,
            viewer.user.id,
            `version ${version.number} deleted`,
          );
        else {
          await tx
            .delete(modelAliases)
            .where(and(eq(modelAliases.modelId, version.modelId), eq(modelAliases.name, LATEST_ALIAS)));
          await tx.insert(aliasEvents).values({
            modelId: version.modelId,
            aliasName: LATEST_ALIAS,
            fromVersionId: version.id,
            fromNumber: version.number,
            reason: `version ${version.number} deleted; no version left`,
            actorId: viewer.user.id,
            createdAt: this.deps.now(),
          });
        }
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

  /** Short-lived URLs of the files the browser needs to load the version with TF.js. */
  async files(version: ModelVersion): Promise<VersionFileUrls> {
    const sign = (name: string) =>
      this.store.presignGet(`${version.objectPrefix}${name}`, { expiresInSec: MODEL_URL_TTL_SEC });
    const [modelJson, weights, config, card] = await Promise.all([
      sign(VERSION_FILES.modelJson),
      sign(VERSION_FILES.weights),
      sign(VERSION_FILES.config),
      sign(VERSION_FILES.card),
    ]);
    return {
      modelJsonUrl: modelJson.url,
      weightsUrl: weights.url,
      configUrl: config.url,
      cardUrl: card.url,
      expiresAt: modelJson.expiresAt,
    };
  }

  async objectUrl(key: string): Promise<string> {
    return (await this.store.presignGet(key, { expiresInSec: MODEL_URL_TTL_SEC })).url;
  }

  /**
   * A zip of weights + config + model card (+ grid), built once per version (streamed into the store, never
   * held in memory) and handed out as a short-lived URL.
   */
  async export(
    meta: RequestMeta,
    versionId: string,
    shareToken?: string | null,
  ): Promise<{ url: string; expiresAt: Date; sizeBytes: number }> {
    const { version } = await this.access.requireVersionAccess(meta, versionId, 'read', { shareToken });
    const key = `${version.objectPrefix}${VERSION_FILES.export}`;
    let stat = await this.store.stat(key);
    if (!stat) {
      const names = [
        VERSION_FILES.modelJson,
        VERSION_FILES.weights,
        VERSION_FILES.config,
        VERSION_FILES.card,
        ...(version.sampleGridKey ? [VERSION_FILES.grid] : []),
      ];
      const entries = [];
      for (const name of names) {
        const s = await this.store.stat(`${version.objectPrefix}${name}`);
        if (!s) throw new Error(`model version ${version.id} lacks ${name} in the object store`);
        entries.push({
          name: name === VERSION_FILES.card ? 'MODEL_CARD.md' : name,
          size: s.size,
          open: async () => this.store.get(`${version.objectPrefix}${name}`) as Promise<AsyncIterable<Uint8Array>>,
        });
      }
      const size = zipSize(entries);
      // Two concurrent exports write the same bytes; the later put simply replaces the earlier one.
      await this.store.put(key, zipStream(entries, version.createdAt), { size, contentType: 'application/zip' });
      stat = { size, lastModified: this.deps.now() };
    }
    const signed = await this.store.presignGet(key, { expiresInSec: MODEL_URL_TTL_SEC });
    return { url: signed.url, expiresAt: signed.expiresAt, sizeBytes: stat.size };
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

  private async findOrCreateModel(
    meta: RequestMeta,
    teamId: string,
    name: string,
    description: string,
    userId: string,
  ): Promise<Model> {
    const [existing] = await this.deps.db
      .select()
      .from(models)
      .where(and(eq(models.teamId, teamId), eq(models.name, name)));
    if (existing) return (await this.access.requireModelAccess(meta, existing.id, 'publish')).model;
    await this.teams.requireTeamRole(meta, teamId, 'member');
    try {
      const [created] = await this.deps.db
        .insert(models)
        .values({ teamId, name, description, createdBy: userId })
        .returning();
      return created!;
    } catch (err) {
      if (!isUniqueViolation(err, 'models_team_name_key')) throw err;
      // Someone created it a moment ago: publish into theirs.
      const [raced] = await this.deps.db
        .select()
        .from(models)
        .where(and(eq(models.teamId, teamId), eq(models.name, name)));
      if (!raced) throw conflict(`A model named "${name}" is being created; try again`, 'modelName');
      return (await this.access.requireModelAccess(meta, raced.id, 'publish')).model;
    }
  }

  private async moveAlias(
    tx: Parameters<Parameters<ServiceDeps['db']['transaction']>[0]>[0],
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

  private async datasetOf(
    datasetVersionId: string | null,
  ): Promise<{ name: string; hash: string | null; labelNames: string[] } | null> {
    if (!datasetVersionId) return null;
    const [row] = await this.deps.db
      .select({ name: datasets.name, hash: datasetVersions.contentHash, manifest: datasetVersions.manifest })
      .from(datasetVersions)
      .innerJoin(datasets, eq(datasets.id, datasetVersions.datasetId))
      .where(eq(datasetVersions.id, datasetVersionId));
    if (!row) return null;
    const names = (row.manifest as { labels?: { names?: unknown } } | null)?.labels?.names;
    return { name: row.name, hash: row.hash, labelNames: Array.isArray(names) ? names.map(String) : [] };
  }

  /** Per metric key: the last value at or before `step` and the mean over the 100 steps up to it. */
  private async metricsSnapshot(
    runId: string,
    step: number,
  ): Promise<Record<string, { step: number | null; last: number | null; mean: number | null }>> {
    const keys = (await listMetricKeys(poolOf(this.deps.db), runId)).slice(0, MAX_QUERY_KEYS);
    if (!keys.length) return {};
    const result = await queryMetrics(poolOf(this.deps.db), {
      runId,
      keys,
      maxPoints: 1,
      fromStep: Math.max(0, step - 99),
      toStep: step,
    });
    const out: Record<string, { step: number | null; last: number | null; mean: number | null }> = {};
    for (const s of result.series) {
      const b = s.buckets.at(-1);
      if (b) out[s.key] = { step: b.lastStep, last: b.last, mean: b.mean };
    }
    return out;
  }

  /** Copies the run's sample grid nearest to `step` (ties: the earlier one) into the version's prefix. */
  private async copyNearestGrid(
    runId: string,
    step: number,
    prefix: string,
  ): Promise<{ key: string; step: number } | null> {
    const [grid] = await this.deps.db
      .select()
      .from(sampleGrids)
      .where(eq(sampleGrids.runId, runId))
      .orderBy(sql`abs(${sampleGrids.step} - ${step})`, asc(sampleGrids.step))
      .limit(1);
    if (!grid) return null;
    const key = `${prefix}${VERSION_FILES.grid}`;
    await this.store.copy(grid.objectKey, key);
    return { key, step: grid.step };
  }
}
