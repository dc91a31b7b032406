import { and, asc, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import {
  checkpoints,
  datasets,
  datasetVersions,
  RUN_STATUSES,
  runEvents,
  runs,
  sampleGrids,
  type Run,
  type RunCheckpoint,
  type RunEvent,
  type RunLog,
  type RunStatus,
  type SampleGrid,
} from '@dapple/db';
import { listMetricKeys, queryMetrics, MetricsInputError, type MetricsQueryResult } from '@dapple/db/metrics/index';
import { RunConfigSchema, unetConfigFor, type RunConfig } from '@dapple/contracts/run-config';
import type { ObjectStore } from '@dapple/storage';
import { z } from 'zod';
import { badInput, conflict, notFound } from '../errors.ts';
import type { ModelAccessService } from '../models/access.ts';
import { readableBaseModel, requireSameArchitecture, withBaseDiffusion, type BaseModel } from './base-model.ts';
import { datasetLabelNames, resolveConditioning } from './conditioning.ts';
import { checkpointPrefix } from './objects.ts';
import type { RunLogStore } from './logs.ts';
import type { RunSignals } from './signals.ts';
import { isActive, isFinished, lockRun, poolOf, revokeRunTokens, transition } from './state.ts';
import type { TeamService } from '../teams/teams.ts';
import { requireViewer } from '../auth/api-tokens.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import { invalidInput, parseInput, withoutNulls } from '../validation.ts';

export const DEFAULT_MAX_ATTEMPTS = 3;
const uuid = (what: string) => z.uuid(`must be a valid ${what} id`);

const startRunInput = z.object({
  datasetVersionId: uuid('dataset version'),
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  config: z.unknown(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  priority: z.number().int().min(-1000).max(1000).default(0),
  maxAttempts: z.number().int().min(1).max(20).default(DEFAULT_MAX_ATTEMPTS),
  fromModelVersionId: uuid('model version').nullish(),
});

const forkRunInput = z.object({
  id: uuid('run'),
  fromStep: z.number().int().min(0),
  name: z.string().trim().min(1).max(200).optional(),
  overrides: z.record(z.string(), z.unknown()).default({}),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
});

export interface RunFilter {
  status?: RunStatus[] | null;
  datasetVersionId?: string | null;
  search?: string | null;
}

export interface RunPage {
  runs: Run[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/** Fields a fork may not change: they define the network whose checkpoint it starts from. */
const ARCHITECTURE_FIELDS = [
  'preset',
  'model',
  'timesteps',
  'schedule',
  'prediction',
  'conditioning',
  'numClasses',
] as const;

/** User-facing run operations: validation, authorisation and state changes. The scheduler starts and stops processes. */
export class RunService {
  private kick: () => void = () => {};

  constructor(
    private readonly deps: ServiceDeps,
    private readonly teams: TeamService,
    private readonly store: ObjectStore,
    private readonly signals: RunSignals,
    private readonly logs: RunLogStore,
    private readonly modelAccess: ModelAccessService,
  ) {}

  get db() {
    return this.deps.db;
  }

  /** The scheduler registers itself to react at once to new, cancelled or resumed runs. */
  setKick(kick: () => void): void {
    this.kick = kick;
  }

  /** The run if the caller may see it (any team role), else NOT_FOUND / FORBIDDEN. */
  async get(meta: RequestMeta, id: string, minRole: 'viewer' | 'member' = 'viewer'): Promise<Run> {
    requireViewer(meta);
    if (!z.uuid().safeParse(id).success) throw notFound('Run');
    const [run] = await this.deps.db.select().from(runs).where(eq(runs.id, id));
    if (!run) throw notFound('Run');
    await this.teams.requireTeamRole(meta, run.teamId, minRole);
    return run;
  }

  async start(meta: RequestMeta, input: unknown): Promise<Run> {
    const viewer = requireViewer(meta);
    const parsed = parseInput(startRunInput, withoutNulls(input));
    const version = await this.datasetVersion(parsed.datasetVersionId);
    await this.teams.requireTeamRole(meta, version.teamId, 'member');
    // Fine-tuning: the base must be readable by the caller (it may be another team's shared or public model).
    const base = parsed.fromModelVersionId
      ? await readableBaseModel(this.modelAccess, meta, parsed.fromModelVersionId)
      : null;
    const raw = base ? withBaseDiffusion(parsed.config, base) : parsed.config;
    const config = this.validateConfig(raw, version, 'config', { base, autoConditioning: true });
    const seed = parsed.seed ?? Math.floor(Math.random() * 2 ** 31);
    const run = await this.deps.db.transaction(async (tx) => {
      const [run] = await tx
        .insert(runs)
        .values({
          teamId: version.teamId,
          name: parsed.name,
          datasetVersionId: version.id,
          config,
          seed,
          priority: parsed.priority,
          maxAttempts: parsed.maxAttempts,
          totalSteps: config.steps,
          baseModelVersionId: base?.version.id ?? null,
          createdBy: viewer.user.id,
        })
        .returning();
      if (!run) throw new Error('insert into runs returned no row');
      const message = base
        ? `queued: fine-tuning model "${base.model.name}" v${base.version.number} (${base.version.id})`
        : 'queued';
      await tx
        .insert(runEvents)
        .values({ runId: run.id, attempt: 0, fromStatus: null, toStatus: 'queued', message, actorId: viewer.user.id });
      return run;
    });
    await this.changed(run.id);
    return run;
  }

  /**
   * queued → cancelled at once; starting/running → cancelling (the scheduler sends SIGTERM, the trainer
   * checkpoints and exits, then → cancelled). A second cancel returns the run unchanged; a finished run is a CONFLICT.
   */
  async cancel(meta: RequestMeta, id: string): Promise<Run> {
    const viewer = requireViewer(meta);
    const run = await this.get(meta, id, 'member');
    const now = this.deps.now();
    const updated = await this.deps.db.transaction(async (tx) => {
      const locked = (await lockRun(tx, run.id))!;
      if (locked.status === 'cancelling') return locked;
      if (isFinished(locked.status))
        throw conflict(
          `Run "${locked.name}" has already ${locked.status === 'succeeded' ? 'succeeded' : `been ${locked.status}`}: there is nothing to cancel`,
        );
      if (locked.status === 'queued' || locked.status === 'lost') {
        await revokeRunTokens(tx, locked.id, now);
        return transition(
          tx,
          locked,
          'cancelled',
          'cancelled while queued',
          { cancelRequested: true, finishedAt: now },
          viewer.user.id,
        );
      }
      return transition(tx, locked, 'cancelling', 'cancel requested', { cancelRequested: true }, viewer.user.id);
    });
    await this.changed(updated.id);
    return updated;
  }

  /** failed/cancelled → queued: the next attempt starts from the run's last checkpoint. */
  async resume(meta: RequestMeta, id: string): Promise<Run> {
    const viewer = requireViewer(meta);
    const run = await this.get(meta, id, 'member');
    const updated = await this.deps.db.transaction(async (tx) => {
      const locked = (await lockRun(tx, run.id))!;
      if (locked.status === 'succeeded')
        throw conflict(`Run "${locked.name}" has already succeeded: fork it to train further`);
      if (locked.status === 'queued' || isActive(locked.status) || locked.status === 'lost') {
        throw conflict(`Run "${locked.name}" is ${locked.status}: only failed or cancelled runs can be resumed`);
      }
      if (!locked.datasetVersionId)
        throw conflict(`Run "${locked.name}" cannot resume: its dataset version was deleted`);
      return transition(
        tx,
        locked,
        'queued',
        'resume requested',
        {
          cancelRequested: false,
          error: null,
          finishedAt: null,
          startedAt: null,
          queuedAt: this.deps.now(),
          maxAttempts: locked.attempt + DEFAULT_MAX_ATTEMPTS,
          executorHandle: null,
          executorSlot: null,
          executorHost: null,
        },
        viewer.user.id,
      );
    });
    await this.changed(updated.id);
    return updated;
  }

  /** A new run that starts from this run's checkpoint at `fromStep`, with training overrides (lr, steps, …). */
  async fork(meta: RequestMeta, input: unknown): Promise<Run> {
    const viewer = requireViewer(meta);
    const parsed = parseInput(forkRunInput, withoutNulls(input));
    const source = await this.get(meta, parsed.id, 'member');
    for (const field of ARCHITECTURE_FIELDS) {
      if (field in parsed.overrides)
        throw badInput(
          `overrides.${field}`,
          `overrides.${field}: a fork keeps the architecture of the checkpoint it starts from`,
        );
    }
    const [ckpt] = await this.deps.db
      .select()
      .from(checkpoints)
      .where(and(eq(checkpoints.runId, source.id), eq(checkpoints.step, parsed.fromStep)));
    if (!ckpt) {
      const steps = (await this.checkpoints(source.id)).map((c) => c.step);
      throw badInput(
        'fromStep',
        `fromStep: run "${source.name}" has no checkpoint at step ${parsed.fromStep}; available: ${steps.length ? steps.join(', ') : 'none'}`,
      );
    }
    if (!source.datasetVersionId)
      throw conflict(`Run "${source.name}" cannot be forked: its dataset version was deleted`);
    const version = await this.datasetVersion(source.datasetVersionId);
    // A stored config without `conditioning` predates it and is unconditional: keep it so (no auto default).
    const config = this.validateConfig({ ...(source.config as object), ...parsed.overrides }, version, 'overrides', {
      base: null,
      autoConditioning: false,
    });
    if (config.steps <= parsed.fromStep)
      throw badInput('overrides.steps', `overrides.steps: must be greater than fromStep (${parsed.fromStep})`);
    const run = await this.deps.db.transaction(async (tx) => {
      const [run] = await tx
        .insert(runs)
        .values({
          teamId: source.teamId,
          name: parsed.name ?? `${source.name} (fork @${parsed.fromStep})`,
          datasetVersionId: source.datasetVersionId,
          config,
          seed: parsed.seed ?? source.seed,
          priority: parsed.priority ?? source.priority,
          maxAttempts: source.maxAttempts,
          parentRunId: source.id,
          fromStep: parsed.fromStep,
          // Kept for the record: the fork's weights descend from the same base model.
          baseModelVersionId: source.baseModelVersionId,
          step: parsed.fromStep,
          totalSteps: config.steps,
          createdBy: viewer.user.id,
        })
        .returning();
      if (!run) throw new Error('insert into runs returned no row');
      // The fork owns a copy: the parent may prune that checkpoint later (keep last K).
      const prefix = checkpointPrefix(run.id, parsed.fromStep);
      for (const file of ['model.json', 'weights.bin'])
        await this.store.copy(`${ckpt.objectPrefix}/${file}`, `${prefix}/${file}`);
      await tx
        .insert(checkpoints)
        .values({ runId: run.id, step: parsed.fromStep, objectPrefix: prefix, sizeBytes: ckpt.sizeBytes });
      await tx.insert(runEvents).values({
        runId: run.id,
        attempt: 0,
        fromStatus: null,
        toStatus: 'queued',
        message: `forked from run ${source.id} at step ${parsed.fromStep}`,
        actorId: viewer.user.id,
      });
      return run;
    });
    await this.changed(run.id);
    return run;
  }

  async list(
    meta: RequestMeta,
    teamId: string,
    filter: RunFilter,
    first: number,
    after?: string | null,
  ): Promise<RunPage> {
    await this.teams.requireTeamRole(meta, teamId, 'viewer');
    const limit = Math.max(1, Math.min(first, 100));
    const conditions: SQL[] = [eq(runs.teamId, teamId)];
    if (filter.status?.length) {
      for (const s of filter.status)
        if (!RUN_STATUSES.includes(s)) throw badInput('filter.status', `filter.status: unknown status ${s}`);
      conditions.push(inArray(runs.status, filter.status));
    }
    if (filter.datasetVersionId) conditions.push(eq(runs.datasetVersionId, filter.datasetVersionId));
    if (filter.search) conditions.push(sql`${runs.name} ILIKE ${`%${filter.search.replace(/[\\%_]/g, '\\$&')}%`}`);
    if (after) {
      const cursor = decodeCursor(after);
      conditions.push(
        or(lt(runs.createdAt, cursor.createdAt), and(eq(runs.createdAt, cursor.createdAt), lt(runs.id, cursor.id)))!,
      );
    }
    const rows = await this.deps.db
      .select()
      .from(runs)
      .where(and(...conditions))
      .orderBy(desc(runs.createdAt), desc(runs.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { runs: page, hasNextPage: rows.length > limit, endCursor: last ? encodeCursor(last) : null };
  }

  checkpoints(runId: string): Promise<RunCheckpoint[]> {
    return this.deps.db.select().from(checkpoints).where(eq(checkpoints.runId, runId)).orderBy(asc(checkpoints.step));
  }

  async sampleGrids(runId: string, step?: number | null): Promise<SampleGrid[]> {
    const where =
      step === undefined || step === null
        ? eq(sampleGrids.runId, runId)
        : and(eq(sampleGrids.runId, runId), eq(sampleGrids.step, step));
    return this.deps.db.select().from(sampleGrids).where(where).orderBy(asc(sampleGrids.step));
  }

  /** A short-lived download URL for an object of the run (sample grid PNG, checkpoint file). */
  async objectUrl(key: string): Promise<{ url: string; expiresAt: Date }> {
    const signed = await this.store.presignGet(key, { expiresInSec: 300 });
    return { url: signed.url, expiresAt: signed.expiresAt };
  }

  events(runId: string): Promise<RunEvent[]> {
    return this.deps.db.select().from(runEvents).where(eq(runEvents.runId, runId)).orderBy(asc(runEvents.id));
  }

  logsTail(runId: string, n: number): Promise<RunLog[]> {
    return this.logs.tail(runId, n);
  }

  metricKeys(runId: string): Promise<string[]> {
    return listMetricKeys(poolOf(this.deps.db), runId);
  }

  async metrics(
    runId: string,
    q: { keys: string[]; maxPoints: number; fromStep?: number | null; toStep?: number | null },
  ): Promise<MetricsQueryResult> {
    try {
      return await queryMetrics(poolOf(this.deps.db), {
        runId,
        keys: q.keys,
        maxPoints: q.maxPoints,
        ...(q.fromStep != null ? { fromStep: q.fromStep } : {}),
        ...(q.toStep != null ? { toStep: q.toStep } : {}),
      });
    } catch (err) {
      if (err instanceof MetricsInputError) throw badInput(err.field, err.message);
      throw err;
    }
  }

  private async datasetVersion(id: string) {
    const [row] = await this.deps.db
      .select({ version: datasetVersions, dataset: datasets })
      .from(datasetVersions)
      .innerJoin(datasets, eq(datasets.id, datasetVersions.datasetId))
      .where(eq(datasetVersions.id, id));
    if (!row) throw badInput('datasetVersionId', `datasetVersionId: no dataset version ${id}`);
    if (row.version.status !== 'ready') {
      throw badInput(
        'datasetVersionId',
        `datasetVersionId: version ${row.version.number} of "${row.dataset.name}" is ${row.version.status}, not ready for training`,
      );
    }
    return {
      id: row.version.id,
      teamId: row.dataset.teamId,
      resolution: row.dataset.resolution,
      channels: row.dataset.channels,
      name: row.dataset.name,
      labelNames: datasetLabelNames(row.version.manifest),
    };
  }

  /**
   * The RunConfig schema, plus the checks that need the dataset (resolution, labels) and the network (UNet
   * shape, and the base model's when fine-tuning).
   */
  private validateConfig(
    raw: unknown,
    version: { resolution: number; channels: number; name: string; labelNames: string[] },
    field: string,
    opts: { base: BaseModel | null; autoConditioning: boolean },
  ): RunConfig {
    const parsed = RunConfigSchema.safeParse(raw);
    if (!parsed.success) throw invalidInput(parsed.error, { prefix: field });
    const given = opts.autoConditioning
      ? parsed.data
      : { ...parsed.data, conditioning: parsed.data.conditioning ?? 'none' };
    const config = resolveConditioning(given, version, opts.base, field);
    const unet = unetConfigFor(config, version.channels);
    if (unet.resolution !== version.resolution) {
      const f = config.model.resolution !== undefined ? `${field}.model.resolution` : `${field}.preset`;
      throw badInput(
        f,
        `${f}: the model trains on ${unet.resolution}×${unet.resolution} images but dataset "${version.name}" is ${version.resolution}×${version.resolution}; set ${field}.model.resolution to ${version.resolution} or pick a dataset of that resolution`,
      );
    }
    const levels = unet.channelMults.length;
    if (unet.resolution % 2 ** (levels - 1) !== 0) {
      throw badInput(
        `${field}.model.channelMults`,
        `${field}.model.channelMults: ${levels} levels need a resolution divisible by ${2 ** (levels - 1)}`,
      );
    }
    for (const m of unet.channelMults) {
      if ((unet.baseChannels * m) % unet.groups !== 0) {
        throw badInput(
          `${field}.model.groups`,
          `${field}.model.groups: ${unet.groups} must divide every channel count (${unet.baseChannels * m} is not divisible)`,
        );
      }
    }
    if (opts.base) requireSameArchitecture(opts.base, unet, field);
    return config;
  }

  private async changed(runId: string): Promise<void> {
    await this.signals.notify({ kind: 'updated', runId });
    this.kick();
  }
}

function encodeCursor(run: Run): string {
  return Buffer.from(`${run.createdAt.toISOString()}|${run.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !z.uuid().safeParse(id).success)
    throw badInput('after', 'after: not a cursor returned by runs()');
  return { createdAt, id };
}
