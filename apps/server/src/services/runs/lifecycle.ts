import { and, eq } from 'drizzle-orm';
import { checkpoints, runEvents, runs, type Run } from '@dapple/db';
import type { ObjectStore } from '@dapple/storage';
import { z } from 'zod';
import { requireViewer } from '../auth/index.ts';
import { badInput, conflict } from '../errors.ts';
import type { ModelAccessService } from '../models/index.ts';
import type { TeamService } from '../teams/index.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import { parseInput, withoutNulls } from '../validation.ts';
import { readableBaseModel, withBaseDiffusion } from './base-model.ts';
import { checkpointPrefix } from './objects.ts';
import { trainingDatasetVersion, validateRunConfig, withDatasetResolution } from './run-config.ts';
import type { RunService } from './runs.ts';
import type { RunSignals } from './signals.ts';
import { isActive, isFinished, lockRun, revokeRunTokens, transition } from './state.ts';

export const DEFAULT_MAX_ATTEMPTS = 3;
const uuid = (what: string) => z.uuid(`must be a valid ${what} id`);
/** A run's seed: what the trainer's RNGs take (a non-negative 31-bit integer). */
const runSeed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);
const priority = z.number().int().min(-1000).max(1000);

const startRunInput = z.object({
  datasetVersionId: uuid('dataset version'),
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  config: z.unknown(),
  seed: runSeed.optional(),
  priority: priority.default(0),
  maxAttempts: z.number().int().min(1).max(20).default(DEFAULT_MAX_ATTEMPTS),
  fromModelVersionId: uuid('model version').nullish(),
});

const forkRunInput = z.object({
  id: uuid('run'),
  fromStep: z.number().int().min(0),
  name: z.string().trim().min(1).max(200).optional(),
  overrides: z.record(z.string(), z.unknown()).default({}),
  seed: runSeed.optional(),
  priority: priority.optional(),
});

/** Fields a fork may not change: they define the network whose checkpoint it starts from. */
export const ARCHITECTURE_FIELDS = [
  'preset',
  'model',
  'timesteps',
  'schedule',
  'prediction',
  'conditioning',
  'numClasses',
] as const;

/**
 * What users do to runs: start (from scratch or fine-tuning a model version), cancel, resume, fork. Validation,
 * authorisation and the state change with its run event; the run scheduler starts and stops the processes.
 */
export class RunLifecycle {
  private kick: () => void = () => {};

  constructor(
    private readonly deps: ServiceDeps,
    private readonly runs: RunService,
    private readonly teams: TeamService,
    private readonly store: ObjectStore,
    private readonly signals: RunSignals,
    private readonly modelAccess: ModelAccessService,
  ) {}

  /** The scheduler registers itself to react at once to new, cancelled or resumed runs. */
  setKick(kick: () => void): void {
    this.kick = kick;
  }

  async start(meta: RequestMeta, input: unknown): Promise<Run> {
    const viewer = requireViewer(meta);
    const parsed = parseInput(startRunInput, withoutNulls(input));
    const version = await trainingDatasetVersion(this.deps.db, parsed.datasetVersionId, (teamId) =>
      this.teams.requireTeamRole(meta, teamId, 'member'),
    );
    // Fine-tuning: the base must be readable by the caller (it may be another team's shared or public model).
    const base = parsed.fromModelVersionId
      ? await readableBaseModel(this.modelAccess, meta, parsed.fromModelVersionId)
      : null;
    const raw = withDatasetResolution(
      base ? withBaseDiffusion(parsed.config, base) : parsed.config,
      version.resolution,
    );
    const config = validateRunConfig(raw, version, 'config', { base, autoConditioning: true });
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
    const run = await this.runs.get(meta, id, 'member');
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
    const run = await this.runs.get(meta, id, 'member');
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
    const source = await this.runs.get(meta, parsed.id, 'member');
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
      const steps = (await this.runs.checkpoints(source.id)).map((c) => c.step);
      throw badInput(
        'fromStep',
        `fromStep: run "${source.name}" has no checkpoint at step ${parsed.fromStep}; available: ${steps.length ? steps.join(', ') : 'none'}`,
      );
    }
    if (!source.datasetVersionId)
      throw conflict(`Run "${source.name}" cannot be forked: its dataset version was deleted`);
    // The source run was authorised above; its version is its team's.
    const version = await trainingDatasetVersion(this.deps.db, source.datasetVersionId, async () => {});
    // A stored config without `conditioning` predates it and is unconditional: keep it so (no auto default).
    const config = validateRunConfig({ ...(source.config as object), ...parsed.overrides }, version, 'overrides', {
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

  private async changed(runId: string): Promise<void> {
    await this.signals.notify({ kind: 'updated', runId });
    this.kick();
  }
}
