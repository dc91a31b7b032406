import { asc, eq } from 'drizzle-orm';
import { checkpoints, datasets, datasetVersions, models, modelVersions, type Run } from '@dapple/db';
import { RunConfigSchema } from '@dapple/contracts/run-config';
import {
  CHECKPOINT_FILES,
  TRAINER_PROTOCOL_VERSION,
  type Assignment,
  type Presigned,
} from '@dapple/contracts/trainer-protocol';
import type { ObjectStore } from '@dapple/storage';
import { conflict, ServiceError } from '../errors.ts';
import type { ServiceDeps } from '../types.ts';
import { baseLabelRows } from './base-model.ts';
import { datasetLabelNames } from './conditioning.ts';

/** How long the object URLs handed to a trainer stay valid. */
export const URL_TTL_SEC = 900;

export const toPresigned = (s: { url: string; method: string; headers: Record<string, string> }): Presigned => ({
  url: s.url,
  method: s.method,
  headers: s.headers,
});

/**
 * What a trainer is told to do: the run and its config, the dataset version's manifest and shard URLs, and the
 * weights it starts from (its last checkpoint when resuming, a fine-tune's base model version otherwise).
 */
export class TrainerAssignments {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly store: ObjectStore,
  ) {}

  async assignment(run: Run): Promise<Assignment> {
    const version = await this.version(run);
    const config = RunConfigSchema.parse(run.config);
    const [latest] = await this.deps.db
      .select()
      .from(checkpoints)
      .where(eq(checkpoints.runId, run.id))
      .orderBy(asc(checkpoints.step))
      .then((rows) => rows.slice(-1));
    let resumeFrom: Assignment['resumeFrom'] = null;
    if (latest) {
      const [json, weights] = await Promise.all(
        CHECKPOINT_FILES.map((f) =>
          this.store.presignGet(`${latest.objectPrefix}/${f}`, { expiresInSec: URL_TTL_SEC }),
        ),
      );
      resumeFrom = {
        runId: run.id,
        step: latest.step,
        files: { 'model.json': toPresigned(json!), 'weights.bin': toPresigned(weights!) },
      };
    }
    return {
      protocol: TRAINER_PROTOCOL_VERSION,
      run: { id: run.id, name: run.name, attempt: run.attempt, seed: run.seed, config, channels: version.channels },
      dataset: { versionId: version.id, manifest: version.manifest },
      resumeFrom,
      baseModel:
        resumeFrom || !run.baseModelVersionId
          ? null
          : await this.baseModel(
              run.baseModelVersionId,
              config.conditioning === 'class' ? datasetLabelNames(version.manifest) : [],
            ),
    };
  }

  /**
   * Download URLs of a fine-tune's base weights (checked readable by the user at startRun), and which base class
   * each of the run's labels starts from.
   */
  private async baseModel(versionId: string, labelNames: string[]): Promise<NonNullable<Assignment['baseModel']>> {
    const [row] = await this.deps.db
      .select({ version: modelVersions, name: models.name })
      .from(modelVersions)
      .innerJoin(models, eq(models.id, modelVersions.modelId))
      .where(eq(modelVersions.id, versionId));
    if (!row)
      throw conflict(
        `the base model version ${versionId} of this fine-tune was deleted before the run saved a checkpoint`,
      );
    const [json, weights] = await Promise.all(
      CHECKPOINT_FILES.map((f) =>
        this.store.presignGet(`${row.version.objectPrefix}${f}`, { expiresInSec: URL_TTL_SEC }),
      ),
    );
    return {
      versionId,
      name: row.name,
      number: row.version.number,
      files: { 'model.json': toPresigned(json!), 'weights.bin': toPresigned(weights!) },
      labelRows: baseLabelRows(row.version.labelNames, labelNames),
    };
  }

  async shardUrl(run: Run, name: string): Promise<Presigned> {
    const version = await this.version(run);
    const shards = (version.manifest as { shards?: { name: string }[] } | null)?.shards ?? [];
    if (!shards.some((s) => s.name === name))
      throw new ServiceError('NOT_FOUND', `shard ${name} is not in the dataset manifest`, { field: 'name' });
    return toPresigned(await this.store.presignGet(`${version.prefix}${name}`, { expiresInSec: URL_TTL_SEC }));
  }

  private async version(run: Run) {
    if (!run.datasetVersionId) throw conflict('the run has no dataset version (it was deleted)');
    const [row] = await this.deps.db
      .select({ version: datasetVersions, dataset: datasets })
      .from(datasetVersions)
      .innerJoin(datasets, eq(datasets.id, datasetVersions.datasetId))
      .where(eq(datasetVersions.id, run.datasetVersionId));
    if (!row?.version.manifest || !row.version.manifestKey) throw conflict('the dataset version has no manifest');
    const prefix = row.version.manifestKey.slice(0, row.version.manifestKey.lastIndexOf('/') + 1);
    return { id: row.version.id, manifest: row.version.manifest, prefix, channels: row.dataset.channels };
  }
}
