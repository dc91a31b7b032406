import { and, count, desc, eq, inArray, isNull, lt, ne, or } from 'drizzle-orm';
import {
  datasets,
  datasetVersions,
  memberships,
  modelVersions,
  sampleJobs,
  type ModelVersion,
  type SampleJob,
} from '@dapple/db';
import { MAX_GLOW_TEMPERATURE, specImages, validateSampleRequest, type SamplingSpec } from '@dapple/models/browser';
import { DEFAULT_CLASS_GUIDANCE, DEFAULT_SAMPLER, SAMPLER_KINDS } from '@dapple/models/config';
import type { ObjectStore } from '@dapple/storage';
import { z } from 'zod';
import { badInput, forbidden, isServiceError, notFound, ServiceError } from '../errors.ts';
import type { TaskRequest } from '../../sampling-pool/protocol.ts';
import type { HubPresence } from '../../sampling-pool/hub-presence.ts';
import type { SampleScheduler } from '../../sampling-pool/scheduler.ts';
import type { SamplingSignals } from '../../sampling-pool/signals.ts';
import type { ModelAccess, ModelAccessService } from '../models/index.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import { pageSize, parseInput, withoutNulls } from '../validation.ts';
import {
  checkImageIndex,
  interpolateInput,
  readDatasetImage,
  readyManifest,
  type InterpolateInput,
  type InterpolationParams,
} from './interpolation.ts';
import { requireViewer } from '../auth/index.ts';
import { checkShareLinkQuota } from './share-link-quota.ts';
import { resolveLabel, taskRequest, versionModelRef, versionSpec, type SampleParams } from './sample-request.ts';

export const MAX_SAMPLES_PER_JOB = 64;
export const MAX_SAMPLE_STEPS = 1000;
/** Sample image URLs live this long. */
export const SAMPLE_URL_TTL_SEC = 300;

const DEFAULT_GLOW_TEMPERATURE = 0.7;

const generateInput = z.object({
  modelVersionId: z.string(),
  count: z
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(MAX_SAMPLES_PER_JOB, `must be at most ${MAX_SAMPLES_PER_JOB}`),
  steps: z
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(MAX_SAMPLE_STEPS, `must be at most ${MAX_SAMPLE_STEPS}`)
    .default(50),
  sampler: z.enum(SAMPLER_KINDS).default(DEFAULT_SAMPLER),
  eta: z.number().min(0, 'must be at least 0').max(1, 'must be at most 1').default(0),
  /** Glow models only: the priors' temperature (default 0.7). */
  temperature: z
    .number()
    .gt(0, 'must be > 0')
    .max(MAX_GLOW_TEMPERATURE, `must be at most ${MAX_GLOW_TEMPERATURE}`)
    .optional(),
  seed: z
    .number()
    .int('must be an integer')
    .min(0, 'must be at least 0')
    .max(2 ** 31 - 1, 'must be at most 2147483647')
    .optional(),
  guidance: z.number().min(0, 'must be at least 0').max(20, 'must be at most 20').nullish(),
  label: z.string().trim().min(1, 'must not be empty').nullish(),
  shareToken: z.string().nullish(),
});
export type GenerateSamplesInput = z.input<typeof generateInput>;

export interface SampleJobView {
  job: SampleJob;
  /** 0-based place in the queue while queued (0 = next), else null. */
  queuePosition: number | null;
}

/** generateSamples / sampleJob: validation, access, queueing; the scheduler runs the jobs. */
export class SamplingService {
  constructor(
    private readonly deps: ServiceDeps & { store: ObjectStore },
    private readonly access: ModelAccessService,
    readonly scheduler: SampleScheduler,
    readonly signals: SamplingSignals,
    private readonly presence: HubPresence,
  ) {}

  async generate(meta: RequestMeta, input: GenerateSamplesInput): Promise<SampleJobView> {
    const p = parseInput(generateInput, withoutNulls(input));
    const { version, access } = await this.access.requireVersionAccess(meta, p.modelVersionId, 'sample', {
      shareToken: p.shareToken,
    });
    let spec: SamplingSpec;
    try {
      spec = versionSpec(version);
    } catch (err) {
      throw badInput(
        'modelVersionId',
        `modelVersionId: the stored config cannot be sampled (${(err as Error).message})`,
      );
    }
    const labelId = resolveLabel(spec, p.label);
    if (p.guidance !== null && p.guidance !== undefined) {
      if (spec.architecture === 'glow')
        throw badInput('guidance', 'guidance: a Glow model has no classifier-free guidance; leave guidance empty');
      if (specImages(spec).numClasses === undefined)
        throw badInput(
          'guidance',
          'guidance: classifier-free guidance needs a class-conditional model; this model is unconditional',
        );
      if (labelId === null) throw badInput('guidance', 'guidance: needs a label (the class to guide towards)');
    }
    const params: SampleParams = {
      count: p.count,
      steps: p.steps,
      sampler: p.sampler,
      eta: p.eta,
      seed: p.seed ?? Math.floor(Math.random() * 2 ** 31),
      // A class without a scale gets the run grids' and evaluations' guidance: the conditional model alone draws
      // its class far less reliably (docs/samplers.md: 66 % of samples recognised as their class against 98 %).
      guidance: p.guidance ?? (labelId !== null && spec.architecture !== 'glow' ? DEFAULT_CLASS_GUIDANCE : null),
      label: labelId === null ? null : (spec.labelNames[labelId] ?? String(labelId)),
      labelId,
      ...(spec.architecture === 'glow' ? { temperature: p.temperature ?? DEFAULT_GLOW_TEMPERATURE } : {}),
    };
    if (spec.architecture !== 'glow' && p.temperature !== undefined && p.temperature !== null)
      throw badInput('temperature', 'temperature: only Glow models sample at a temperature; this is a diffusion model');
    const request = taskRequest(params, spec);
    try {
      validateSampleRequest(spec, request, { maxCount: MAX_SAMPLES_PER_JOB });
    } catch (err) {
      const message = (err as Error).message;
      throw badInput(message.split(/[ :]/)[0] || 'input', message);
    }
    this.checkQueueRoom(access.quotaTeamId);
    const job = await this.insertJob(version, access, params);
    this.submit(job, version, request);
    return { job, queuePosition: await this.queuePosition(job) };
  }

  /**
   * Queues an interpolation between two images of the dataset version a Glow version was trained on. The caller
   * must be able to sample the model and read that dataset version (a member of its team): a share link, or a
   * team the model is shared with, samples the model but never sees its training images.
   */
  async interpolate(meta: RequestMeta, input: InterpolateInput): Promise<SampleJobView> {
    const p = parseInput(interpolateInput, withoutNulls(input));
    const { version, access } = await this.access.requireVersionAccess(meta, p.modelVersionId, 'sample', {
      shareToken: p.shareToken,
    });
    if (version.config.architecture !== 'glow')
      throw badInput(
        'modelVersionId',
        'modelVersionId: only Glow model versions can interpolate (a diffusion model has no exact encoder of images)',
      );
    const principal = access.principal;
    if (principal.kind === 'shareLink')
      throw forbidden(
        "Interpolation shows images of the model's training dataset; a share link cannot read them (sign in as a member of the dataset's team)",
      );
    const dataset = await this.trainingDatasetVersion(version, principal.userId);
    const { manifest } = readyManifest(dataset);
    if (manifest.resolution !== version.resolution || manifest.channels !== version.channels)
      throw badInput(
        'modelVersionId',
        `modelVersionId: its training dataset's images are ${manifest.resolution}×${manifest.resolution}×${manifest.channels}, the model makes ${version.resolution}×${version.resolution}×${version.channels}`,
      );
    checkImageIndex(manifest, 'indexA', p.indexA);
    checkImageIndex(manifest, 'indexB', p.indexB);
    const interpolation: InterpolationParams = {
      datasetVersionId: dataset.id,
      indexA: p.indexA,
      indexB: p.indexB,
      frames: p.steps,
    };
    const params: SampleParams = {
      count: p.steps,
      steps: p.steps,
      sampler: DEFAULT_SAMPLER,
      eta: 0,
      seed: 0,
      guidance: null,
      label: null,
      labelId: null,
      interpolation,
    };
    this.checkQueueRoom(access.quotaTeamId);
    const request = await this.interpolationRequest(params, interpolation);
    const job = await this.insertJob(version, access, params);
    this.submit(job, version, request);
    return { job, queuePosition: await this.queuePosition(job) };
  }

  /** The ready dataset version a model version was trained on, if `userId` is in its team; errors name modelVersionId. */
  private async trainingDatasetVersion(version: ModelVersion, userId: string) {
    const [row] = version.datasetVersionId
      ? await this.deps.db
          .select({ version: datasetVersions, teamId: datasets.teamId })
          .from(datasetVersions)
          .innerJoin(datasets, eq(datasets.id, datasetVersions.datasetId))
          .where(eq(datasetVersions.id, version.datasetVersionId))
      : [];
    if (!row)
      throw badInput(
        'modelVersionId',
        'modelVersionId: the dataset version this model was trained on is not on this hub (deleted, or never recorded)',
      );
    const [member] = await this.deps.db
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.teamId, row.teamId), eq(memberships.userId, userId)));
    if (!member)
      throw forbidden(
        "Interpolation shows images of the model's training dataset, and you cannot read that dataset (only members of its team can)",
      );
    return row.version;
  }

  /** The worker task of an interpolation: its two end images read from the dataset version's shards. */
  private async interpolationRequest(params: SampleParams, ip: InterpolationParams): Promise<TaskRequest> {
    const [dataset] = await this.deps.db
      .select()
      .from(datasetVersions)
      .where(eq(datasetVersions.id, ip.datasetVersionId));
    if (!dataset) throw new Error('the dataset version of the two images was deleted');
    const { manifest, prefix } = readyManifest(dataset);
    const [a, b] = await Promise.all(
      [ip.indexA, ip.indexB].map((i) => readDatasetImage(this.deps.store, manifest, prefix, i)),
    );
    return {
      count: params.count,
      steps: params.steps,
      sampler: params.sampler,
      seed: params.seed,
      interpolate: { a: a!, b: b! },
    };
  }

  private checkQueueRoom(teamId: string): void {
    const limit = this.scheduler.config.maxQueuedPerTeam;
    if (this.scheduler.queuedFor(teamId) >= limit) {
      throw new ServiceError(
        'RATE_LIMITED',
        `Your team already has ${limit} sample jobs waiting; wait for some to finish`,
        {
          retryAfterSeconds: 10,
        },
      );
    }
  }

  private async insertJob(version: ModelVersion, access: ModelAccess, params: SampleParams): Promise<SampleJob> {
    const principal = access.principal;
    await this.presence.start(); // the job is tagged with this hub's id: its lock must be held first
    const now = this.deps.now();
    const [job] = await this.deps.db.transaction(async (tx) => {
      if (principal.kind === 'shareLink')
        await checkShareLinkQuota(tx, principal.shareLinkId, this.scheduler.config.shareLinkQuota, now);
      return tx
        .insert(sampleJobs)
        .values({
          modelVersionId: version.id,
          teamId: access.quotaTeamId,
          requestedBy: principal.kind === 'user' ? principal.userId : null,
          shareLinkId: principal.kind === 'shareLink' ? principal.shareLinkId : null,
          params: params as unknown as Record<string, unknown>,
          stepsTotal: params.steps,
          queuedAt: now,
          hubId: this.presence.id,
        })
        .returning();
    });
    return job!;
  }

  /**
   * Takes over the unfinished jobs of hubs that are gone (killed, crashed: a hub that stops cleanly
   * fails its own): they restart from scratch here, in their original order. Their images are a pure
   * function of the seed, so a rerun gives the same result. Two hubs adopting at once cannot both take
   * a job: the claim is one conditional UPDATE per dead hub.
   */
  async adoptOrphans(): Promise<number> {
    const candidates = await this.deps.db
      .selectDistinct({ hubId: sampleJobs.hubId })
      .from(sampleJobs)
      .where(
        and(
          inArray(sampleJobs.status, ['queued', 'running']),
          or(isNull(sampleJobs.hubId), ne(sampleJobs.hubId, this.presence.id)),
        ),
      );
    const owners = candidates.map((c) => c.hubId);
    const alive = await this.presence.alive(owners.filter((id): id is string => id !== null));
    let adopted = 0;
    for (const owner of owners) {
      if (owner !== null && alive.has(owner)) continue;
      const jobs = await this.deps.db
        .update(sampleJobs)
        .set({ hubId: this.presence.id, status: 'queued', stepsDone: 0, startedAt: null })
        .where(
          and(
            inArray(sampleJobs.status, ['queued', 'running']),
            owner === null ? isNull(sampleJobs.hubId) : eq(sampleJobs.hubId, owner),
          ),
        )
        .returning();
      jobs.sort((a, b) => a.queuedAt.getTime() - b.queuedAt.getTime());
      for (const job of jobs) {
        adopted++;
        await this.resubmit(job);
      }
    }
    return adopted;
  }

  private async resubmit(job: SampleJob): Promise<void> {
    const fail = async (error: string) => {
      await this.deps.db
        .update(sampleJobs)
        .set({ status: 'failed', error, finishedAt: this.deps.now() })
        .where(eq(sampleJobs.id, job.id));
      await this.signals.notify({ kind: 'sampleJob', id: job.id });
    };
    const [version] = await this.deps.db.select().from(modelVersions).where(eq(modelVersions.id, job.modelVersionId));
    if (!version) return fail('The model version was deleted before this job could run');
    try {
      const params = job.params as unknown as SampleParams;
      const request = params.interpolation
        ? await this.interpolationRequest(params, params.interpolation)
        : taskRequest(params, versionSpec(version));
      this.submit(job, version, request);
    } catch (err) {
      return fail(`This job could not be restarted after its hub stopped: ${(err as Error).message}`);
    }
    await this.signals.notify({ kind: 'sampleJob', id: job.id });
  }

  private submit(job: SampleJob, version: ModelVersion, request: TaskRequest): void {
    this.scheduler.submit({
      id: job.id,
      teamId: job.teamId,
      job,
      model: versionModelRef(version),
      request,
      resultPrefix: `${version.objectPrefix}samples/${job.id}/`,
    });
  }

  /** The job if the caller may read its model; a share link sees only jobs made through that link. */
  async get(meta: RequestMeta, id: string, shareToken?: string | null): Promise<SampleJobView> {
    const { job } = await this.readable(meta, id, shareToken);
    return { job, queuePosition: await this.queuePosition(job) };
  }

  /**
   * The caller's own jobs on a version (generateSamples and interpolations, not those of share links), newest
   * first: the playground lists them so that yesterday's samples are not lost with the page.
   */
  async mineForVersion(meta: RequestMeta, versionId: string, first?: number | null): Promise<SampleJobView[]> {
    const viewer = requireViewer(meta);
    const limit = parseInput(pageSize(50, 10), first ?? undefined, { fallback: 'first' });
    await this.access.requireVersionAccess(meta, versionId, 'read');
    const jobs = await this.deps.db
      .select()
      .from(sampleJobs)
      .where(and(eq(sampleJobs.modelVersionId, versionId), eq(sampleJobs.requestedBy, viewer.user.id)))
      .orderBy(desc(sampleJobs.queuedAt))
      .limit(limit);
    return Promise.all(jobs.map(async (job) => ({ job, queuePosition: await this.queuePosition(job) })));
  }

  /**
   * Cancels a queued or running job: its requester (or the share link that made it) and the model
   * team's admins may. Cancelling a finished job changes nothing and returns it as it is.
   */
  async cancel(meta: RequestMeta, id: string, shareToken?: string | null): Promise<SampleJobView> {
    const { job: current, access } = await this.readable(meta, id, shareToken);
    const p = access.principal;
    const allowed =
      p.kind === 'shareLink'
        ? current.shareLinkId === p.shareLinkId
        : current.requestedBy === p.userId || p.teamRole === 'owner' || p.teamRole === 'admin';
    if (!allowed) throw forbidden('Only whoever asked for these samples, or a team admin, can cancel them');
    const [job] = await this.deps.db
      .update(sampleJobs)
      .set({ status: 'cancelled', finishedAt: this.deps.now() })
      .where(and(eq(sampleJobs.id, current.id), inArray(sampleJobs.status, ['queued', 'running'])))
      .returning();
    if (!job) return { job: current, queuePosition: await this.queuePosition(current) };
    this.scheduler.cancel(job.id);
    // The hub that runs it, if another, stops it on this signal (SampleScheduler.watchForCancel).
    await this.signals.notify({ kind: 'sampleJob', id: job.id, cancelled: true });
    return { job, queuePosition: null };
  }

  /** Reads a job again (subscriptions), skipping the access check already made. */
  async reload(id: string): Promise<SampleJobView> {
    const [job] = await this.deps.db.select().from(sampleJobs).where(eq(sampleJobs.id, id));
    if (!job) throw notFound('Sample job');
    return { job, queuePosition: await this.queuePosition(job) };
  }

  async imageUrls(job: SampleJob): Promise<{ index: number; url: string; expiresAt: Date }[]> {
    return Promise.all(
      job.resultKeys.map(async (key, index) => {
        const signed = await this.deps.store.presignGet(key, { expiresInSec: SAMPLE_URL_TTL_SEC });
        return { index, url: signed.url, expiresAt: signed.expiresAt };
      }),
    );
  }

  /** The job and the caller's access to its model, or NOT_FOUND (also when the caller may not see this job). */
  private async readable(
    meta: RequestMeta,
    id: string,
    shareToken?: string | null,
  ): Promise<{ job: SampleJob; access: ModelAccess }> {
    if (!z.uuid().safeParse(id).success) throw notFound('Sample job');
    const [job] = await this.deps.db.select().from(sampleJobs).where(eq(sampleJobs.id, id));
    if (!job) throw notFound('Sample job');
    const { access } = await this.access
      .requireVersionAccess(meta, job.modelVersionId, 'read', { shareToken })
      .catch((err: unknown) => {
        throw isServiceError(err, 'NOT_FOUND') ? notFound('Sample job') : err;
      });
    if (!this.mayRead(access, job)) throw notFound('Sample job');
    return { job, access };
  }

  /** This hub's fair-queue position; for a job queued on another hub, the count of jobs queued before it. */
  private async queuePosition(job: SampleJob): Promise<number | null> {
    if (job.status !== 'queued') return null;
    if (this.scheduler.owns(job.id)) return this.scheduler.position(job.id);
    const [row] = await this.deps.db
      .select({ n: count() })
      .from(sampleJobs)
      .where(and(eq(sampleJobs.status, 'queued'), lt(sampleJobs.queuedAt, job.queuedAt)));
    return row?.n ?? 0;
  }

  /**
   * Who sees a job: its requester and members of the model's team; a share link only the jobs made
   * through it (so the hub never shows one outside user's prompts and results to another).
   */
  private mayRead(access: ModelAccess, job: SampleJob): boolean {
    const p = access.principal;
    if (p.kind === 'shareLink') return job.shareLinkId === p.shareLinkId;
    return job.requestedBy === p.userId || p.teamRole !== null;
  }

  close(): Promise<void> {
    return this.scheduler.close();
  }
}
