import { and, asc, eq, sql } from 'drizzle-orm';
import {
  checkpoints,
  datasets,
  datasetVersions,
  models,
  modelVersions,
  runs,
  sampleGrids,
  type Model,
  type ModelVersion,
  listMetricKeys,
  MAX_QUERY_KEYS,
  queryMetrics,
} from '@dapple/db';
import { ObjectNotFoundError, type ObjectStore } from '@dapple/storage';
import { z } from 'zod';
import type { Logger } from '../../logger.ts';
import { requireViewer } from '../auth/index.ts';
import { badInput, conflict, isServiceError, isUniqueViolation, notFound } from '../errors.ts';
import type { TeamService } from '../teams/index.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import { parseInput } from '../validation.ts';
import type { WebhookEmitter } from '../webhooks/index.ts';
import type { ModelAccessService } from './access.ts';
import { LATEST_ALIAS, type ModelAliasService } from './aliases.ts';
import { modelCardMarkdown, VERSION_FILES, versionPrefix, writeInferenceWeights } from './artifacts.ts';

const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;

const uuid = (what: string) => z.uuid(`must be a valid ${what} id`);
export const modelName = z
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

export interface PublishResult {
  model: Model;
  version: ModelVersion;
}

/**
 * Publishing: a run's checkpoint becomes the next immutable version of a model (inference weights, config,
 * model card, nearest sample grid, metrics snapshot), and `latest` moves to it.
 */
export class ModelPublisher {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly store: ObjectStore,
    private readonly access: ModelAccessService,
    private readonly aliases: ModelAliasService,
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
    const noRun = () => badInput('runId', `runId: no run ${p.runId}`);
    if (!run) throw noRun();
    // Another team's run answers like a missing one.
    await this.teams.requireTeamRole(meta, run.teamId, 'viewer').catch((err: unknown) => {
      throw isServiceError(err, 'NOT_FOUND') ? noRun() : err;
    });
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
        // later (aliases.move locks it FOR UPDATE) deadlocked concurrent publishes.
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
        await this.aliases.move(tx, model.id, LATEST_ALIAS, version, viewer.user.id, 'published', {
          onlyForward: true,
        });
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
    const keys = (await listMetricKeys(this.deps.pool, runId)).slice(0, MAX_QUERY_KEYS);
    if (!keys.length) return {};
    const result = await queryMetrics(this.deps.pool, {
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
