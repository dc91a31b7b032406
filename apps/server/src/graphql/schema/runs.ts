import {
  RUN_STATUSES,
  type Run,
  type RunCheckpoint,
  type RunEvent,
  type RunLog,
  type SampleGrid,
  type MetricBucket,
  type MetricSeries,
} from '@dapple/db';
import { conditioningOf, RunConfigSchema } from '@dapple/contracts/run-config';
import type { Context } from '../context.ts';
import { isServiceError } from '../../services/errors.ts';
import { runMetricsChannel, runUpdatedChannel } from '../../services/runs/index.ts';
import { builder } from '../builder.ts';
import { upperCaseValues } from '../enum-values.ts';
import { mapSignals, startWith } from '../iterators.ts';
import { ModelVersionRef } from './models.ts';
import { RunConfigInput, RunConfigRef, RunTrainingOverridesInput } from './run-config.ts';

const RunStatusEnum = builder.enumType('RunStatus', {
  description:
    'queued → starting → running → succeeded | failed | cancelled; cancelling while the trainer stops; lost when heartbeats stopped (re-queued).',
  values: upperCaseValues(RUN_STATUSES),
});

const RunProgressRef = builder.objectRef<Run>('RunProgress').implement({
  fields: (t) => ({
    step: t.exposeInt('step'),
    totalSteps: t.exposeInt('totalSteps'),
    fraction: t.float({ resolve: (r) => (r.totalSteps > 0 ? Math.min(1, r.step / r.totalSteps) : 0) }),
    imagesPerSec: t.exposeFloat('imagesPerSec', { nullable: true }),
    etaSeconds: t.float({
      nullable: true,
      description: 'Remaining steps × batch size ÷ images/s, while running.',
      resolve: (r) => {
        if (!r.imagesPerSec || r.status !== 'running') return null;
        const batch = RunConfigSchema.safeParse(r.config).data?.batchSize ?? 0;
        return ((r.totalSteps - r.step) * batch) / r.imagesPerSec;
      },
    }),
  }),
});

const CheckpointRef = builder.objectRef<RunCheckpoint>('RunCheckpoint').implement({
  fields: (t) => ({
    step: t.exposeInt('step'),
    sizeBytes: t.exposeFloat('sizeBytes'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const SampleGridRef = builder.objectRef<SampleGrid>('SampleGrid').implement({
  description: 'A PNG grid sampled with the EMA weights (DDIM) from fixed seeds: comparable across steps and runs.',
  fields: (t) => ({
    step: t.exposeInt('step'),
    width: t.exposeInt('width'),
    height: t.exposeInt('height'),
    seeds: t.exposeIntList('seeds'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    url: t.string({
      description: 'Download URL, valid for 5 minutes.',
      resolve: async (g, _a, ctx) => (await ctx.services.runs.objectUrl(g.objectKey)).url,
    }),
  }),
});

const LogStreamEnum = builder.enumType('RunLogStream', {
  values: { STDOUT: { value: 'stdout' }, STDERR: { value: 'stderr' }, SYSTEM: { value: 'system' } } as const,
});
const RunLogLineRef = builder.objectRef<RunLog>('RunLogLine').implement({
  fields: (t) => ({
    attempt: t.exposeInt('attempt'),
    stream: t.field({ type: LogStreamEnum, resolve: (l) => l.stream }),
    line: t.exposeString('line'),
    at: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const RunEventRef = builder.objectRef<RunEvent>('RunEvent').implement({
  fields: (t) => ({
    attempt: t.exposeInt('attempt'),
    fromStatus: t.field({ type: RunStatusEnum, nullable: true, resolve: (e) => e.fromStatus }),
    toStatus: t.field({ type: RunStatusEnum, nullable: true, resolve: (e) => e.toStatus }),
    message: t.exposeString('message'),
    actorId: t.exposeID('actorId', { nullable: true }),
    at: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const MetricBucketRef = builder.objectRef<MetricBucket>('MetricBucket').implement({
  description: 'One downsampled bucket: mean/min/max/last over the finite values of steps [step, step + bucketWidth).',
  fields: (t) => ({
    step: t.exposeInt('step'),
    mean: t.exposeFloat('mean', { nullable: true }),
    min: t.exposeFloat('min', { nullable: true }),
    max: t.exposeFloat('max', { nullable: true }),
    last: t.exposeFloat('last', { nullable: true }),
    lastStep: t.exposeInt('lastStep', { nullable: true }),
    count: t.exposeInt('count'),
    nonFinite: t.exposeInt('nonFinite'),
  }),
});
const MetricSeriesRef = builder.objectRef<MetricSeries & { bucketWidth: number }>('MetricSeries').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    bucketWidth: t.exposeInt('bucketWidth'),
    points: t.field({ type: [MetricBucketRef], resolve: (s) => s.buckets }),
  }),
});

export const RunRef = builder.objectRef<Run>('Run').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    teamId: t.exposeID('teamId'),
    name: t.exposeString('name'),
    status: t.field({ type: RunStatusEnum, resolve: (r) => r.status }),
    datasetVersionId: t.exposeID('datasetVersionId', { nullable: true }),
    config: t.field({
      type: RunConfigRef,
      resolve: (r) => {
        const config = RunConfigSchema.parse(r.config);
        return { ...config, conditioning: conditioningOf(config) };
      },
    }),
    seed: t.exposeInt('seed'),
    priority: t.exposeInt('priority'),
    attempt: t.exposeInt('attempt'),
    maxAttempts: t.exposeInt('maxAttempts'),
    cancelRequested: t.exposeBoolean('cancelRequested'),
    parentRunId: t.exposeID('parentRunId', { nullable: true }),
    fromStep: t.exposeInt('fromStep', { nullable: true }),
    baseModelVersionId: t.exposeID('baseModelVersionId', {
      nullable: true,
      description: 'Fine-tunes: the model version whose weights the run started from.',
    }),
    baseModelVersion: t.field({
      type: ModelVersionRef,
      nullable: true,
      description: 'Fine-tunes: the base model version, when it still exists and you may read it.',
      resolve: async (r, _a, ctx) => {
        if (!r.baseModelVersionId) return null;
        const found = await ctx.services.modelAccess
          .requireVersionAccess(ctx, r.baseModelVersionId, 'read')
          .catch((err: unknown) => {
            if (isServiceError(err, 'NOT_FOUND')) return null;
            throw err;
          });
        return found ? { version: found.version, access: found.access, shareToken: null } : null;
      },
    }),
    publishedModelVersions: t.field({
      type: [ModelVersionRef],
      description:
        'Model versions published from this run that you may read (newest first), with their evaluations: how the ' +
        'compare view sets runs side by side on KID. Versions of models you may not read are left out ' +
        '(publishedVersions names them all, for deleteRun).',
      resolve: async (r, _a, ctx) => {
        const rows = await ctx.loaders.runModelVersions.load(r.id);
        // Every run of a page asks at once: one access query for all their models, then one for all evaluations.
        const access = await Promise.all(rows.map((row) => ctx.loaders.modelAccess.load(row.model)));
        return rows.flatMap(({ version }, i) =>
          access[i]!.can('read') ? [{ version, access: access[i]!, shareToken: null }] : [],
        );
      },
    }),
    executor: t.exposeString('executor', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    queuedAt: t.expose('queuedAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    lastHeartbeatAt: t.expose('lastHeartbeatAt', { type: 'DateTime', nullable: true }),
    progress: t.field({ type: RunProgressRef, resolve: (r) => r }),
    checkpoints: t.field({ type: [CheckpointRef], resolve: (r, _a, ctx) => ctx.loaders.runCheckpoints.load(r.id) }),
    sampleGrids: t.field({
      type: [SampleGridRef],
      description: 'Sample grids by step (all, or the one at `step`).',
      args: { step: t.arg.int() },
      // All grids of a page of runs in one query; one step of one run (the run page) straight from the service.
      resolve: (r, { step }, ctx) =>
        step === null || step === undefined
          ? ctx.loaders.runSampleGrids.load(r.id)
          : ctx.services.runs.sampleGrids(r.id, step),
    }),
    logs: t.field({
      type: [RunLogLineRef],
      description: 'The last `tail` lines of trainer output (all attempts, oldest first; at most 10000 are kept).',
      args: { tail: t.arg.int({ defaultValue: 200 }) },
      resolve: (r, { tail }, ctx) => ctx.services.runs.logsTail(r.id, tail ?? 200),
    }),
    events: t.field({
      type: [RunEventRef],
      description: 'Status transitions, oldest first.',
      resolve: (r, _a, ctx) => ctx.loaders.runEvents.load(r.id),
    }),
    metricKeys: t.stringList({ resolve: (r, _a, ctx) => ctx.loaders.runMetricKeys.load(r.id) }),
    metrics: t.field({
      type: [MetricSeriesRef],
      description: 'Downsampled series: at most maxPoints buckets per key over [fromStep, toStep].',
      args: {
        keys: t.arg.stringList({ required: true }),
        maxPoints: t.arg.int({ defaultValue: 1000 }),
        fromStep: t.arg.int(),
        toStep: t.arg.int(),
      },
      resolve: async (r, args, ctx) => {
        const result = await ctx.services.runs.metrics(r.id, {
          keys: args.keys,
          maxPoints: args.maxPoints ?? 1000,
          fromStep: args.fromStep,
          toStep: args.toStep,
        });
        return result.series.map((s) => ({ ...s, bucketWidth: result.bucketWidth }));
      },
    }),
  }),
});

const RunEdgeRef = builder.objectRef<{ node: Run; cursor: string }>('RunEdge').implement({
  fields: (t) => ({ node: t.field({ type: RunRef, resolve: (e) => e.node }), cursor: t.exposeString('cursor') }),
});
const PageInfoRef = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>('RunPageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});
const RunConnectionRef = builder
  .objectRef<{ runs: Run[]; hasNextPage: boolean; endCursor: string | null }>('RunConnection')
  .implement({
    fields: (t) => ({
      nodes: t.field({ type: [RunRef], resolve: (p) => p.runs }),
      edges: t.field({
        type: [RunEdgeRef],
        resolve: (p) =>
          p.runs.map((node) => ({
            node,
            cursor: Buffer.from(`${node.createdAt.toISOString()}|${node.id}`).toString('base64url'),
          })),
      }),
      pageInfo: t.field({ type: PageInfoRef, resolve: (p) => p }),
    }),
  });

const StartRunInput = builder.inputType('StartRunInput', {
  fields: (t) => ({
    datasetVersionId: t.id({ required: true }),
    name: t.string({ required: true }),
    config: t.field({ type: RunConfigInput, required: true }),
    seed: t.int({ description: 'Default: random.' }),
    priority: t.int({ description: 'Higher starts first; FIFO within a priority. Default 0.' }),
    maxAttempts: t.int({
      description: 'Automatic restarts after a lost trainer, including the first attempt. Default 3.',
    }),
    fromModelVersionId: t.id({
      description:
        "Fine-tune a published model version you may read: the run starts from its weights at step 0 with a fresh optimizer. The config's network (preset, model overrides, conditioning) must match the version's, and the dataset its resolution and channels (BAD_USER_INPUT names the difference). schedule, timesteps and prediction default to the version's.",
    }),
  }),
});

const ForkRunInput = builder.inputType('ForkRunInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    fromStep: t.int({ required: true, description: 'A step that has a checkpoint.' }),
    name: t.string(),
    overrides: t.field({ type: RunTrainingOverridesInput }),
    seed: t.int(),
    priority: t.int(),
  }),
});

const RunFilterInput = builder.inputType('RunFilter', {
  fields: (t) => ({
    status: t.field({ type: [RunStatusEnum] }),
    datasetVersionId: t.id(),
    search: t.string({ description: 'Substring of the run name (case-insensitive).' }),
  }),
});

builder.queryFields((t) => ({
  run: t.field({
    type: RunRef,
    description: 'NOT_FOUND for unknown ids; FORBIDDEN when you are not in its team.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.runs.get(ctx, String(id)),
  }),
  runs: t.field({
    type: RunConnectionRef,
    description: "A team's runs, newest first.",
    authScopes: { authenticated: true },
    args: {
      teamId: t.arg.id({ required: true }),
      filter: t.arg({ type: RunFilterInput }),
      first: t.arg.int({ defaultValue: 20 }),
      after: t.arg.string(),
    },
    resolve: (_r, args, ctx) =>
      ctx.services.runs.list(
        ctx,
        String(args.teamId),
        {
          status: args.filter?.status ?? null,
          datasetVersionId: args.filter?.datasetVersionId ? String(args.filter.datasetVersionId) : null,
          search: args.filter?.search ?? null,
        },
        args.first ?? 20,
        args.after,
      ),
  }),
}));

builder.mutationFields((t) => ({
  startRun: t.field({
    type: RunRef,
    description:
      'Queues a training run on a ready dataset version (team members and up). BAD_USER_INPUT names the bad field.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: StartRunInput, required: true }) },
    resolve: (_r, { input }, ctx) => ctx.services.runLifecycle.start(ctx, input),
  }),
  cancelRun: t.field({
    type: RunRef,
    description:
      'Queued: cancelled at once. Starting/running: CANCELLING, the trainer checkpoints and stops. Repeating is harmless; a finished run is a CONFLICT.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.runLifecycle.cancel(ctx, String(id)),
  }),
  resumeRun: t.field({
    type: RunRef,
    description: 'A failed or cancelled run goes back to the queue and continues from its last checkpoint.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.runLifecycle.resume(ctx, String(id)),
  }),
  forkRun: t.field({
    type: RunRef,
    description: "A new run starting from this run's checkpoint at fromStep, with training overrides.",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: ForkRunInput, required: true }) },
    resolve: (_r, { input }, ctx) => ctx.services.runLifecycle.fork(ctx, input),
  }),
}));

type MetricPointOut = { key: string; step: number; value: number };
const MetricPointRef = builder.objectRef<MetricPointOut>('MetricPoint').implement({
  fields: (t) => ({ key: t.exposeString('key'), step: t.exposeInt('step'), value: t.exposeFloat('value') }),
});
const RunMetricsBatchRef = builder.objectRef<{ runId: string; points: MetricPointOut[] }>('RunMetricsBatch').implement({
  fields: (t) => ({
    runId: t.exposeID('runId'),
    points: t.field({ type: [MetricPointRef], resolve: (b) => b.points }),
  }),
});

builder.subscriptionFields((t) => ({
  runUpdated: t.field({
    type: RunRef,
    description:
      'The run now, then again after every change (status, progress, checkpoints, sample grids). Works across hub instances (Postgres LISTEN/NOTIFY).',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_r, { id }, ctx) => {
      const run = await ctx.services.runs.get(ctx, String(id));
      ctx.streamAccess?.recheckWith((fresh) => fresh.services.runs.get(fresh, run.id));
      const signals = ctx.services.runSignals.pubsub.subscribe(runUpdatedChannel(run.id));
      return startWith(
        run,
        mapSignals(signals, () => ctx.services.runs.get(ctx, run.id)),
      );
    },
    resolve: (run) => run,
  }),
  runMetrics: t.field({
    type: RunMetricsBatchRef,
    description:
      'New metric points of the run as the trainer reports them (steps after sinceStep; the first batch catches up).',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }), keys: t.arg.stringList({ required: true }), sinceStep: t.arg.int() },
    subscribe: async (_r, { id, keys, sinceStep }, ctx) => {
      const run = await ctx.services.runs.get(ctx, String(id));
      ctx.streamAccess?.recheckWith((fresh) => fresh.services.runs.get(fresh, run.id));
      const signals = ctx.services.runSignals.pubsub.subscribe(runMetricsChannel(run.id));
      // One cursor per key: keys of one step are not always stored together (held-out bits/dim is evaluated after
      // the step's training metrics went out, in a later batch), so a single cursor over all keys dropped the late
      // key's point from the live stream. A metrics signal names the steps its batch stored; the read covers them.
      const since = sinceStep ?? -1;
      const lastOf = new Map<string, number>();
      let newest = since;
      const read = async (fromStep: number, toStep?: number) => {
        const points = (await newPoints(ctx, run.id, keys, Math.max(since + 1, fromStep), toStep)).filter(
          (p) => p.step > (lastOf.get(p.key) ?? since),
        );
        for (const p of points) {
          lastOf.set(p.key, Math.max(lastOf.get(p.key) ?? since, p.step));
          newest = Math.max(newest, p.step);
        }
        return { runId: run.id, points };
      };
      const catchUp = await read(since + 1);
      return startWith(
        catchUp,
        mapSignals(
          signals,
          (s) => (s.kind === 'metrics' ? read(s.fromStep, s.toStep) : read(newest + 1)),
          (b) => b.points.length > 0,
        ),
      );
    },
    resolve: (batch) => batch,
  }),
}));

async function newPoints(
  ctx: Context,
  runId: string,
  keys: string[],
  fromStep: number,
  toStep?: number,
): Promise<MetricPointOut[]> {
  if (toStep !== undefined && toStep < fromStep) return [];
  const maxPoints = toStep === undefined ? 100_000 : Math.min(100_000, toStep - fromStep + 1);
  const result = await ctx.services.runs.metrics(runId, {
    keys,
    maxPoints,
    fromStep,
    ...(toStep !== undefined ? { toStep } : {}),
  });
  const out: MetricPointOut[] = [];
  for (const s of result.series) {
    for (const b of s.buckets) {
      const value = b.last ?? b.mean;
      if (value !== null) out.push({ key: s.key, step: b.lastStep ?? b.step, value });
    }
  }
  return out.sort((a, b) => a.step - b.step);
}
