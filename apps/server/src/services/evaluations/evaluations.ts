import { and, count, desc, eq, inArray, lt, notInArray } from 'drizzle-orm';
import {
  datasets,
  datasetVersions,
  evaluations,
  memberships,
  modelVersions,
  type Evaluation,
  type ModelJobStatus,
  type TeamRole,
} from '@dapple/db';
import { DEFAULT_CLASS_GUIDANCE, DEFAULT_SAMPLE_STEPS, DEFAULT_SAMPLER, SAMPLER_KINDS } from '@dapple/models/config';
import { specImages } from '@dapple/models/browser';
import { offlineExtractorName, pretrainedExtractorName } from '@dapple/models/extractors';
import type { ObjectStore } from '@dapple/storage';
import type { Logger } from 'pino';
import { z } from 'zod';
import { badInput, conflict, forbidden, isServiceError, notFound } from '../errors.ts';
import type { JobSender } from '../job-sender.ts';
import type { ClassifierTask, EvaluationResult, ExtractorConfig } from '../../sampling-pool/protocol.ts';
import type { SampleScheduler } from '../../sampling-pool/scheduler.ts';
import type { SamplingSignals } from '../../sampling-pool/signals.ts';
import type { ModelAccessService } from '../models/index.ts';
import { versionModelRef } from '../sampling/index.ts';
import { requireViewer } from '../auth/index.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import { pageSize, parseInput } from '../validation.ts';
import {
  cacheClassifier,
  classifierId,
  classifierKey,
  DEFAULT_CLASSIFIER,
  type ClassifierConfig,
} from './classifier-cache.ts';
import { comparableKey, evaluationParams, type EvaluationParams, type ExtractorKind } from './params.ts';

export const MIN_EVAL_SAMPLES = 10;
export const MAX_EVAL_SAMPLES = 10_000;
/** The statuses an evaluation can still be cancelled (or fail) in. */
const ACTIVE: ModelJobStatus[] = ['queued', 'running'];
/** A dataset classifier needs a few labelled images per class to learn from and to hold out. */
const MIN_CLASSIFIER_IMAGES = 10;

/**
 * Which extractors this hub offers: the pretrained and the offline one always; InceptionV3 when a model
 * URL or object key is configured. `classifier`: the dataset classifier's training budget.
 */
export interface EvaluationConfig {
  inception?: Omit<Extract<ExtractorConfig, { kind: 'inception' }>, 'kind'>;
  classifier?: Partial<ClassifierConfig>;
}

const evaluateInput = z.object({
  modelVersionId: z.uuid('must be a valid model version id'),
  datasetVersionId: z.uuid('must be a valid dataset version id'),
  numSamples: z
    .number()
    .int('must be an integer')
    .min(MIN_EVAL_SAMPLES, `must be at least ${MIN_EVAL_SAMPLES}`)
    .max(MAX_EVAL_SAMPLES, `must be at most ${MAX_EVAL_SAMPLES}`),
  extractor: z.enum(['pretrained', 'offline', 'inception']).default('pretrained'),
  steps: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(DEFAULT_SAMPLE_STEPS),
  sampler: z.enum(SAMPLER_KINDS).default(DEFAULT_SAMPLER),
  eta: z.number().min(0, 'must be at least 0').max(1, 'must be at most 1').default(0),
  /** Conditional models only; default DEFAULT_CLASS_GUIDANCE (as the run grids). */
  guidance: z.number().min(0, 'must be at least 0').max(20, 'must be at most 20').optional(),
  /** Fixed by default so re-evaluating a version gives the same numbers. */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0),
});
export type EvaluateModelInput = z.input<typeof evaluateInput>;

export { comparableKey, type EvaluationParams } from './params.ts';

/** evaluateModel: validation, access, queueing; the evaluation.run job computes in a sampling worker. */
export class EvaluationService {
  private readonly classifierConfig: ClassifierConfig;

  constructor(
    private readonly deps: ServiceDeps & { jobs: JobSender; store: ObjectStore },
    private readonly access: ModelAccessService,
    private readonly scheduler: SampleScheduler,
    private readonly signals: SamplingSignals,
    readonly config: EvaluationConfig,
  ) {
    this.classifierConfig = { ...DEFAULT_CLASSIFIER, ...config.classifier };
  }

  extractorName(kind: ExtractorKind): string {
    if (kind === 'pretrained') return pretrainedExtractorName();
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
    const manifest = row.version.manifest as {
      resolution?: number;
      channels?: number;
      labels?: { names?: string[]; histogram?: number[] };
    };
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
        'extractor: no InceptionV3 model is configured on this hub (DAPPLE_INCEPTION_MODEL_URL or DAPPLE_INCEPTION_MODEL_KEY); use PRETRAINED or see docs/evaluation.md',
      );
    }
    // A Glow samples in one inverse pass (at its default temperature): steps and sampler do not apply to it.
    const glow = version.config.architecture === 'glow';
    const T = (version.config.schedule as { T?: number } | undefined)?.T;
    if (!glow && T !== undefined && p.steps > T)
      throw badInput('steps', `steps: must be at most the model's timesteps (${T})`);
    // A conditional model is evaluated over all its labels (samples spread evenly), a DDPM guided as its grids are.
    const numClasses = specImages(versionModelRef(version).spec).numClasses ?? 0;
    if ((numClasses === 0 || glow) && p.guidance !== undefined && p.guidance !== 0)
      throw badInput(
        'guidance',
        glow
          ? 'guidance: a Glow model has no classifier-free guidance'
          : 'guidance: the model is not class-conditional; guidance needs class labels',
      );
    const labels = Array.from({ length: numClasses }, (_, i) => i);
    const names = manifest.labels?.names ?? [];
    const labelled = (manifest.labels?.histogram ?? []).reduce((a, b) => a + b, 0);
    const params: EvaluationParams = {
      steps: p.steps,
      sampler: p.sampler,
      eta: p.eta,
      seed: p.seed,
      extractorKind: p.extractor,
      quotaTeamId: access.quotaTeamId,
      guidance: numClasses > 0 && !glow ? (p.guidance ?? DEFAULT_CLASS_GUIDANCE) : null,
      labels,
      labelNames: labels.map((i) => version.labelNames[i] ?? String(i)),
      ...(names.length >= 2 && labelled >= MIN_CLASSIFIER_IMAGES
        ? { classifierId: classifierId(this.classifierConfig) }
        : {}),
    };
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

  /** The row now, or null when it is gone (its model version was deleted). */
  private async row(id: string): Promise<Evaluation | null> {
    const [e] = await this.deps.db.select().from(evaluations).where(eq(evaluations.id, id));
    return e ?? null;
  }

  async reload(id: string): Promise<Evaluation> {
    const e = await this.row(id);
    if (!e) throw notFound('Evaluation');
    return e;
  }

  /**
   * 0-based place in this hub's fair queue while QUEUED (0 = starts next); for one no hub has picked up
   * yet, the count of evaluations queued before it. null once it runs or finished.
   */
  async queuePosition(e: Evaluation): Promise<number | null> {
    if (e.status !== 'queued') return null;
    if (this.scheduler.owns(e.id)) return this.scheduler.position(e.id);
    const [row] = await this.deps.db
      .select({ n: count() })
      .from(evaluations)
      .where(and(eq(evaluations.status, 'queued'), lt(evaluations.queuedAt, e.queuedAt)));
    return (row?.n ?? 0) + this.scheduler.queued;
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

  /**
   * Evaluations of many versions in one query (newest first), in the order of `versionIds`, for the GraphQL
   * dataloaders: the caller has checked that the viewer may read each version.
   */
  async ofVersions(versionIds: readonly string[]): Promise<Evaluation[][]> {
    const rows = await this.deps.db
      .select()
      .from(evaluations)
      .where(inArray(evaluations.modelVersionId, [...versionIds]))
      .orderBy(desc(evaluations.queuedAt));
    const byVersion = new Map<string, Evaluation[]>(versionIds.map((id) => [id, []]));
    for (const row of rows) byVersion.get(row.modelVersionId)?.push(row);
    return versionIds.map((id) => byVersion.get(id) ?? []);
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
   * Evaluations of every version of a model, newest first, only `statuses` ones when given (the model page lists
   * the queued, running, failed and cancelled ones: the finished numbers are in `comparable`). Signed-in readers.
   */
  async forModel(
    meta: RequestMeta,
    modelId: string,
    opts: { statuses?: readonly ModelJobStatus[] | null; first?: number | null },
  ): Promise<Evaluation[]> {
    const first = parseInput(pageSize(100, 20), opts.first ?? undefined, { fallback: 'first' });
    await this.access.requireModelAccess(meta, modelId, 'read');
    const rows = await this.deps.db
      .select({ evaluation: evaluations })
      .from(evaluations)
      .innerJoin(modelVersions, eq(modelVersions.id, evaluations.modelVersionId))
      .where(
        and(
          eq(modelVersions.modelId, modelId),
          opts.statuses ? inArray(evaluations.status, [...opts.statuses]) : undefined,
        ),
      )
      .orderBy(desc(evaluations.queuedAt))
      .limit(first);
    return rows.map((r) => r.evaluation);
  }

  /**
   * Whether the caller may cancel (while queued or running) or delete (once ended) the evaluation: they asked for
   * it, or are an owner or admin of the model's team. `role`: the caller's role in that team (a page's rows batch
   * it: graphql/loaders.ts).
   */
  may(action: 'cancel' | 'delete', meta: RequestMeta, e: Evaluation, role: TeamRole | null): boolean {
    if (!meta.viewer || ACTIVE.includes(e.status) !== (action === 'cancel')) return false;
    return e.requestedBy === meta.viewer.user.id || role === 'owner' || role === 'admin';
  }

  /** The caller's role in a team; null when not a member. */
  private async roleIn(meta: RequestMeta, teamId: string): Promise<TeamRole | null> {
    if (!meta.viewer) return null;
    const [member] = await this.deps.db
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.teamId, teamId), eq(memberships.userId, meta.viewer.user.id)));
    return member?.role ?? null;
  }

  /**
   * Deletes an ended evaluation (a mistaken dataset, a trial with 10 samples): its numbers leave every table. A
   * queued or running one is a CONFLICT (cancel it first). Its requester or a team admin.
   */
  async delete(meta: RequestMeta, id: string): Promise<boolean> {
    const e = await this.get(meta, id);
    if (ACTIVE.includes(e.status)) throw conflict(`The evaluation is ${e.status}: cancel it first, then delete it`);
    if (!this.may('delete', meta, e, await this.roleIn(meta, e.teamId)))
      throw forbidden('Only whoever asked for this evaluation, or an admin of the model’s team, can delete it');
    const deleted = await this.deps.db
      .delete(evaluations)
      .where(and(eq(evaluations.id, id), notInArray(evaluations.status, ACTIVE)))
      .returning({ id: evaluations.id });
    return deleted.length > 0;
  }

  /**
   * Cancels a queued or running evaluation: a queued one leaves the queue, a running one's worker stops at its next
   * batch, on this hub or (at its next progress write) another. Cancelling a finished one changes nothing.
   */
  async cancel(meta: RequestMeta, id: string): Promise<Evaluation> {
    const current = await this.get(meta, id);
    if (!ACTIVE.includes(current.status)) return current;
    if (!this.may('cancel', meta, current, await this.roleIn(meta, current.teamId)))
      throw forbidden('Only whoever asked for this evaluation, or an admin of the model’s team, can cancel it');
    const [cancelled] = await this.deps.db
      .update(evaluations)
      .set({ status: 'cancelled', finishedAt: this.deps.now() })
      .where(and(eq(evaluations.id, id), inArray(evaluations.status, ACTIVE)))
      .returning();
    if (!cancelled) return this.reload(id); // it finished meanwhile
    this.scheduler.cancel(id);
    // The hub that runs it, if another, stops it on this signal (SampleScheduler.watchForCancel).
    await this.signals.notify({ kind: 'evaluation', id, cancelled: true });
    return cancelled;
  }

  /**
   * The job body: runs the evaluation on the sampling pool (queued fairly with sample jobs) and stores the
   * numbers. Idempotent: a finished evaluation is left alone. Returns the finished (or cancelled) row for the
   * webhook, null when there is nothing new to tell.
   */
  async run(id: string, log: Logger): Promise<Evaluation | null> {
    const [e] = await this.deps.db.select().from(evaluations).where(eq(evaluations.id, id));
    // A cancelled one is told once more (the webhook's delivery key drops repeats): it may have been cancelled
    // before any hub took it up.
    if (!e || e.status === 'succeeded' || e.status === 'failed') return null;
    if (e.status === 'cancelled') return e;
    const [version] = await this.deps.db.select().from(modelVersions).where(eq(modelVersions.id, e.modelVersionId));
    const [dataset] = e.datasetVersionId
      ? await this.deps.db.select().from(datasetVersions).where(eq(datasetVersions.id, e.datasetVersionId))
      : [];
    const params = evaluationParams(e);
    if (!version || !dataset?.manifest || !dataset.manifestKey)
      return this.fail(id, 'the model version or the dataset version was deleted before the evaluation ran');
    const extractor: ExtractorConfig =
      params.extractorKind === 'inception'
        ? { kind: 'inception', ...this.config.inception }
        : { kind: params.extractorKind ?? 'offline' };
    const prefix = dataset.manifestKey.slice(0, dataset.manifestKey.lastIndexOf('/') + 1);
    const classifier = await this.classifierTask(params, prefix, dataset.manifest, version.labelNames);
    let last = 0;
    let writing: Promise<unknown> = Promise.resolve();
    const phases: NonNullable<EvaluationParams['phases']> = [];
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
          guidance: params.guidance ?? null,
          labels: params.labels ?? [],
          dataset: { manifest: dataset.manifest, prefix },
          extractor,
          classifier,
        },
        // RUNNING only once a worker takes it: until then it waits in the fair queue with a position. Every write
        // is conditional on the state expected: a cancel (on any hub) can land at any moment.
        onStart: async () => {
          const started = await this.deps.db
            .update(evaluations)
            .set({ status: 'running', startedAt: this.deps.now(), samplesDone: 0, phase: null })
            .where(and(eq(evaluations.id, id), inArray(evaluations.status, ACTIVE)))
            .returning({ id: evaluations.id });
          await this.signals.notify({ kind: 'evaluation', id });
          return started.length > 0;
        },
        onProgress: (done, _total, phase) => {
          const now = Date.now();
          // A new phase is written at once (and its start kept for the finished row); progress every 250 ms.
          const newPhase = phase !== undefined && phase !== phases.at(-1)?.phase;
          if (newPhase) phases.push({ phase, startedAt: this.deps.now().toISOString() });
          if (!newPhase && now - last < 250) return;
          last = now;
          const samplesDone = Math.min(done, e.numSamples);
          writing = writing
            .then(() =>
              this.deps.db
                .update(evaluations)
                .set({ samplesDone, ...(phase ? { phase } : {}) })
                .where(and(eq(evaluations.id, id), eq(evaluations.status, 'running')))
                .returning({ id: evaluations.id }),
            )
            .then(async (still) => {
              if (!still.length) return this.scheduler.cancel(id); // cancelled through another hub
              await this.signals.notify({ kind: 'evaluation', id });
            });
        },
      });
      await writing;
      const c = result.classifier;
      if (c?.files && classifier) await cacheClassifier(this.deps.store, classifier.key, c.files);
      const labelNames = params.labelNames ?? [];
      const stored: EvaluationParams = {
        ...params,
        phases,
        paperComparable: result.paperComparable,
        kidSubsetSize: result.kid.subsetSize,
        kidSubsets: result.kid.numSubsets,
        kidSubsetsDiffer: result.kid.subsetsDiffer,
        ...(result.inceptionScore ? { isSplits: result.inceptionScore.splits } : {}),
        ...(result.realInceptionScore
          ? { realIsMean: result.realInceptionScore.mean, realIsStd: result.realInceptionScore.std }
          : {}),
        ...(c && classifier
          ? {
              classifier: {
                name: c.name,
                heldOutAccuracy: c.heldOutAccuracy,
                objectKey: classifier.key,
                reused: !c.trained,
              },
              datasetIs: { mean: c.datasetInceptionScore.mean, std: c.datasetInceptionScore.std },
              realDatasetIs: { mean: c.realDatasetInceptionScore.mean, std: c.realDatasetInceptionScore.std },
              sampleAccuracy: c.sampleAccuracy && {
                accuracy: c.sampleAccuracy.accuracy,
                chance: c.sampleAccuracy.chance,
                perClass: c.sampleAccuracy.perClass.map((r) => ({
                  ...r,
                  name: labelNames[r.label] ?? String(r.label),
                })),
              },
            }
          : {}),
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
          isMean: result.inceptionScore?.mean ?? null,
          isStd: result.inceptionScore?.std ?? null,
          params: stored as unknown as Record<string, unknown>,
          finishedAt: this.deps.now(),
        })
        .where(and(eq(evaluations.id, id), eq(evaluations.status, 'running')))
        .returning();
      await this.signals.notify({ kind: 'evaluation', id });
      return done ?? (await this.row(id)); // not running any more: cancelled (or deleted) at the last moment
    } catch (err) {
      await writing.catch(() => undefined);
      // Stopped by a hub shutdown: leave it to the job's retry on the next hub.
      if (this.scheduler.isClosed) throw err;
      const now = await this.row(id);
      if (!now) return null; // its model version was deleted meanwhile: nothing to tell
      if (now.status === 'cancelled') {
        log.info({ evaluationId: id }, 'evaluation cancelled');
        return now;
      }
      log.warn({ err, evaluationId: id }, 'evaluation failed');
      return this.fail(id, err instanceof Error ? err.message : String(err));
    }
  }

  /** Where the dataset version's classifier is (or will be) cached, and how model classes map to its classes. */
  private async classifierTask(
    params: EvaluationParams,
    datasetPrefix: string,
    manifest: unknown,
    modelLabelNames: string[],
  ): Promise<ClassifierTask | null> {
    if (!params.classifierId) return null;
    const names = (manifest as { labels?: { names?: string[] } }).labels?.names ?? [];
    const key = classifierKey(datasetPrefix, params.classifierId);
    const cached = (await this.deps.store.stat(key)) !== null;
    return {
      key,
      cached,
      steps: this.classifierConfig.steps,
      maxTrainImages: this.classifierConfig.maxTrainImages,
      // By name: the model's class i is the dataset class it was trained as (a model from another dataset may differ).
      datasetClassOf: (params.labels ?? []).map((i) => {
        const at = names.indexOf(modelLabelNames[i] ?? '');
        return at >= 0 ? at : null;
      }),
    };
  }

  /** Marks an evaluation failed (and tells subscribers); returns the row. */
  async fail(id: string, message: string): Promise<Evaluation | null> {
    const [row] = await this.deps.db
      .update(evaluations)
      .set({ status: 'failed', error: message.slice(0, 2000), finishedAt: this.deps.now() })
      .where(and(eq(evaluations.id, id), inArray(evaluations.status, ACTIVE)))
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
    datasetInceptionScore: evaluationParams(e).datasetIs ?? null,
    sampleAccuracy: evaluationParams(e).sampleAccuracy ?? null,
    classifier: evaluationParams(e).classifier ?? null,
    error: e.error,
  };
}
