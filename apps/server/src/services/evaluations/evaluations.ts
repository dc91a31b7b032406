import { and, desc, eq, inArray } from 'drizzle-orm';
import { datasets, datasetVersions, evaluations, memberships, modelVersions, type Evaluation } from '@dapple/db';
import { DEFAULT_SAMPLER, SAMPLER_KINDS, type SamplerKind } from '@dapple/models/diffusion/samplers/kinds';
import { offlineExtractorName } from '@dapple/models/metrics/extractors/offline';
import type { Logger } from 'pino';
import { z } from 'zod';
import { badInput, isServiceError, notFound } from '../errors.ts';
import type { JobSender } from '../job-sender.ts';
import type { EvaluationResult, ExtractorConfig } from '../../sampling-pool/protocol.ts';
import type { SampleScheduler } from '../../sampling-pool/scheduler.ts';
import type { SamplingSignals } from '../../sampling-pool/signals.ts';
import type { ModelAccessService } from '../models/index.ts';
import { versionModelRef } from '../sampling/index.ts';
import { requireViewer } from '../auth/index.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import { parseInput } from '../validation.ts';

export const MIN_EVAL_SAMPLES = 10;
export const MAX_EVAL_SAMPLES = 10_000;

/** Which extractors this hub offers: always the offline one; InceptionV3 when a model URL or object key is configured. */
export interface EvaluationConfig {
  inception?: Omit<Extract<ExtractorConfig, { kind: 'inception' }>, 'kind'>;
}

const evaluateInput = z.object({
  modelVersionId: z.uuid('must be a valid model version id'),
  datasetVersionId: z.uuid('must be a valid dataset version id'),
  numSamples: z
    .number()
    .int('must be an integer')
    .min(MIN_EVAL_SAMPLES, `must be at least ${MIN_EVAL_SAMPLES}`)
    .max(MAX_EVAL_SAMPLES, `must be at most ${MAX_EVAL_SAMPLES}`),
  extractor: z.enum(['offline', 'inception']).default('offline'),
  steps: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(50),
  sampler: z.enum(SAMPLER_KINDS).default(DEFAULT_SAMPLER),
  eta: z.number().min(0).max(1).default(0),
  /** Fixed by default so re-evaluating a version gives the same numbers. */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0),
});
export type EvaluateModelInput = z.input<typeof evaluateInput>;

/** Stored in evaluations.params. */
export interface EvaluationParams {
  steps: number;
  sampler: SamplerKind;
  eta: number;
  seed: number;
  extractorKind: 'offline' | 'inception';
  /** The team whose fair-queue share the evaluation uses. */
  quotaTeamId: string;
  paperComparable?: boolean;
  kidSubsetSize?: number;
  kidSubsets?: number;
  isSplits?: number;
  realIsMean?: number;
  realIsStd?: number;
}

/**
 * Numbers are comparable only with the same extractor, the same sample count and the same reference
 * data: rows that share this key may be put side by side, others never.
 */
export function comparableKey(
  e: Pick<Evaluation, 'extractor' | 'numSamples' | 'datasetVersionHash' | 'datasetVersionId'>,
): string {
  return `${e.extractor}|n=${e.numSamples}|data=${e.datasetVersionHash ?? e.datasetVersionId ?? 'unknown'}`;
}

/** evaluateModel: validation, access, queueing; the evaluation.run job computes in a sampling worker. */
export class EvaluationService {
  constructor(
    private readonly deps: ServiceDeps & { jobs: JobSender },
    private readonly access: ModelAccessService,
    private readonly scheduler: SampleScheduler,
    private readonly signals: SamplingSignals,
    readonly config: EvaluationConfig,
  ) {}

  extractorName(kind: 'offline' | 'inception'): string {
    if (kind === 'offline') return offlineExtractorName();
    const c = this.config.inception;
    return `${c?.label ?? 'inception-v3'}(pool=${c?.poolOutput ?? 'pool_3'},logits=${c?.logitsOutput ?? 'logits'},299px,bilinear)`;
  }

  async evaluate(meta: RequestMeta, input: EvaluateModelInput): Promise<Evaluation> {
    const viewer = requireViewer(meta);
    const p = parseInput(evaluateInput, input);
    const { version, model, access } = await this.access.requireVersionAccess(meta, p.modelVersionId, 'sample');
    const [row] = await this.deps.db
      .select({ version: datasetVersions, dataset: datasets })
      .from(datasetVersions)
      .innerJoin(datasets, eq(datasets.id, datasetVersions.datasetId))
      .where(eq(datasetVersions.id, p.datasetVersionId));
    if (!row) throw notFound('Dataset version');
    const [member] = await this.deps.db
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.teamId, row.dataset.teamId), eq(memberships.userId, viewer.user.id)));
    if (!member) throw notFound('Dataset version');
    if (row.version.status !== 'ready' || !row.version.manifest || !row.version.manifestKey) {
      throw badInput('datasetVersionId', `datasetVersionId: the dataset version is ${row.version.status}, not ready`);
    }
    const manifest = row.version.manifest as { resolution?: number; channels?: number };
    if (manifest.resolution !== version.resolution || manifest.channels !== version.channels) {
      throw badInput(
        'datasetVersionId',
        `datasetVersionId: its images are ${manifest.resolution}×${manifest.resolution}×${manifest.channels}, the model makes ${version.resolution}×${version.resolution}×${version.channels}`,
      );
    }
    if (row.version.acceptedCount < p.numSamples) {
      throw badInput(
        'numSamples',
        `numSamples: the dataset version has ${row.version.acceptedCount} images; numSamples must be at most that`,
      );
    }
    if (p.extractor === 'inception' && !this.config.inception?.url && !this.config.inception?.objectKey) {
      throw badInput(
        'extractor',
        'extractor: no InceptionV3 model is configured on this hub (DAPPLE_INCEPTION_MODEL_URL or DAPPLE_INCEPTION_MODEL_KEY); use OFFLINE or see docs/evaluation.md',
      );
    }
    const params: EvaluationParams = {
      steps: p.steps,
      sampler: p.sampler,
      eta: p.eta,
      seed: p.seed,
      extractorKind: p.extractor,
      quotaTeamId: access.quotaTeamId,
    };
    // A Glow samples in one inverse pass (at its default temperature): steps and sampler do not apply to it.
    if (version.config.architecture !== 'glow' && p.steps > (version.config.schedule as { T?: number }).T!)
      throw badInput(
        'steps',
        `steps: must be at most the model's timesteps (${(version.config.schedule as { T?: number }).T})`,
      );
    const [evaluation] = await this.deps.db
      .insert(evaluations)
      .values({
        modelVersionId: version.id,
        datasetVersionId: row.version.id,
        datasetVersionHash: row.version.contentHash,
        teamId: model.teamId,
        numSamples: p.numSamples,
        extractor: this.extractorName(p.extractor),
        params: params as unknown as Record<string, unknown>,
        requestedBy: viewer.user.id,
        queuedAt: this.deps.now(),
      })
      .returning();
    await this.deps.jobs.send('evaluation.run', { evaluationId: evaluation!.id });
    return evaluation!;
  }

  /** An evaluation if the caller may read its model. */
  async get(meta: RequestMeta, id: string): Promise<Evaluation> {
    if (!z.uuid().safeParse(id).success) throw notFound('Evaluation');
    const [e] = await this.deps.db.select().from(evaluations).where(eq(evaluations.id, id));
    if (!e) throw notFound('Evaluation');
    await this.access.requireVersionAccess(meta, e.modelVersionId, 'read').catch((err: unknown) => {
      throw isServiceError(err, 'NOT_FOUND') ? notFound('Evaluation') : err;
    });
    return e;
  }

  async reload(id: string): Promise<Evaluation> {
    const [e] = await this.deps.db.select().from(evaluations).where(eq(evaluations.id, id));
    if (!e) throw notFound('Evaluation');
    return e;
  }

  /** Evaluations of a version, newest first. */
  async forVersion(meta: RequestMeta, versionId: string): Promise<Evaluation[]> {
    await this.access.requireVersionAccess(meta, versionId, 'read');
    return this.deps.db
      .select()
      .from(evaluations)
      .where(eq(evaluations.modelVersionId, versionId))
      .orderBy(desc(evaluations.queuedAt));
  }

  /** Finished evaluations of every version of a model, grouped by comparableKey (only numbers within a group compare). */
  async comparable(meta: RequestMeta, modelId: string): Promise<{ key: string; rows: Evaluation[] }[]> {
    await this.access.requireModelAccess(meta, modelId, 'read');
    const versionIds = (
      await this.deps.db.select({ id: modelVersions.id }).from(modelVersions).where(eq(modelVersions.modelId, modelId))
    ).map((v) => v.id);
    if (!versionIds.length) return [];
    const rows = await this.deps.db
      .select()
      .from(evaluations)
      .where(and(inArray(evaluations.modelVersionId, versionIds), eq(evaluations.status, 'succeeded')))
      .orderBy(desc(evaluations.finishedAt));
    const groups = new Map<string, Evaluation[]>();
    for (const r of rows) {
      const key = comparableKey(r);
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    return [...groups].map(([key, rows]) => ({ key, rows }));
  }

  /**
   * The job body: runs the evaluation on the sampling pool (queued fairly with sample jobs) and stores the
   * numbers. Idempotent: a finished evaluation is left alone. Returns the finished row for the webhook.
   */
  async run(id: string, log: Logger): Promise<Evaluation | null> {
    const [e] = await this.deps.db.select().from(evaluations).where(eq(evaluations.id, id));
    if (!e || e.status === 'succeeded' || e.status === 'failed') return null;
    const [version] = await this.deps.db.select().from(modelVersions).where(eq(modelVersions.id, e.modelVersionId));
    const [dataset] = e.datasetVersionId
      ? await this.deps.db.select().from(datasetVersions).where(eq(datasetVersions.id, e.datasetVersionId))
      : [];
    const params = e.params as unknown as EvaluationParams;
    if (!version || !dataset?.manifest || !dataset.manifestKey)
      return this.fail(id, 'the model version or the dataset version was deleted before the evaluation ran');
    await this.deps.db
      .update(evaluations)
      .set({ status: 'running', startedAt: this.deps.now(), samplesDone: 0 })
      .where(eq(evaluations.id, id));
    await this.signals.notify({ kind: 'evaluation', id });
    const extractor: ExtractorConfig =
      params.extractorKind === 'inception' ? { kind: 'inception', ...this.config.inception } : { kind: 'offline' };
    let last = 0;
    let writing: Promise<unknown> = Promise.resolve();
    try {
      const result: EvaluationResult = await this.scheduler.evaluate({
        id,
        teamId: params.quotaTeamId,
        model: versionModelRef(version),
        task: {
          numSamples: e.numSamples,
          steps: params.steps,
          sampler: params.sampler,
          eta: params.eta,
          seed: params.seed,
          dataset: {
            manifest: dataset.manifest,
            prefix: dataset.manifestKey.slice(0, dataset.manifestKey.lastIndexOf('/') + 1),
          },
          extractor,
        },
        onProgress: (done) => {
          const now = Date.now();
          if (now - last < 250) return;
          last = now;
          const samplesDone = Math.min(done, e.numSamples);
          writing = writing
            .then(() => this.deps.db.update(evaluations).set({ samplesDone }).where(eq(evaluations.id, id)))
            .then(() => this.signals.notify({ kind: 'evaluation', id }));
        },
      });
      await writing;
      const stored: EvaluationParams = {
        ...params,
        paperComparable: result.paperComparable,
        kidSubsetSize: result.kid.subsetSize,
        kidSubsets: result.kid.numSubsets,
        isSplits: result.inceptionScore.splits,
        realIsMean: result.realInceptionScore.mean,
        realIsStd: result.realInceptionScore.std,
      };
      const [done] = await this.deps.db
        .update(evaluations)
        .set({
          status: 'succeeded',
          extractor: result.extractor,
          samplesDone: e.numSamples,
          kidMean: result.kid.mean,
          kidStd: result.kid.std,
          fid: result.fid,
          isMean: result.inceptionScore.mean,
          isStd: result.inceptionScore.std,
          params: stored as unknown as Record<string, unknown>,
          finishedAt: this.deps.now(),
        })
        .where(eq(evaluations.id, id))
        .returning();
      await this.signals.notify({ kind: 'evaluation', id });
      return done ?? null;
    } catch (err) {
      await writing.catch(() => undefined);
      // Stopped by a hub shutdown: leave it to the job's retry on the next hub.
      if (this.scheduler.isClosed) throw err;
      log.warn({ err, evaluationId: id }, 'evaluation failed');
      return this.fail(id, err instanceof Error ? err.message : String(err));
    }
  }

  /** Marks an evaluation failed (and tells subscribers); returns the row. */
  async fail(id: string, message: string): Promise<Evaluation | null> {
    const [row] = await this.deps.db
      .update(evaluations)
      .set({ status: 'failed', error: message.slice(0, 2000), finishedAt: this.deps.now() })
      .where(and(eq(evaluations.id, id), inArray(evaluations.status, ['queued', 'running'])))
      .returning();
    await this.signals.notify({ kind: 'evaluation', id });
    return row ?? null;
  }
}

/** The webhook payload of evaluation.finished. */
export function evaluationWebhookPayload(e: Evaluation): Record<string, unknown> {
  return {
    evaluationId: e.id,
    modelVersionId: e.modelVersionId,
    datasetVersionId: e.datasetVersionId,
    status: e.status,
    extractor: e.extractor,
    numSamples: e.numSamples,
    comparableKey: comparableKey(e),
    kid: e.kidMean === null ? null : { mean: e.kidMean, std: e.kidStd },
    fid: e.fid,
    inceptionScore: e.isMean === null ? null : { mean: e.isMean, std: e.isStd },
    error: e.error,
  };
}
