import { MODEL_JOB_STATUSES } from '@dapple/db';
import {
  sampleJobChannel,
  type InterpolationParams,
  type SampleJobView,
  type SampleParams,
} from '../../services/sampling/index.ts';
import { mapSignals, startWith } from '../iterators.ts';
import { builder } from '../builder.ts';
import { upperCaseValues } from '../enum-values.ts';
import { forbidden } from '../../services/errors.ts';
import { ModelVersionRef } from './models.ts';

/** QUEUED/RUNNING/SUCCEEDED/FAILED/CANCELLED → the stored status (sample jobs and evaluations share it). */
export const JOB_STATUS_VALUES = upperCaseValues(MODEL_JOB_STATUSES);

const SampleJobStatusEnum = builder.enumType('SampleJobStatus', {
  description: 'queued → running → succeeded | failed; queued or running → cancelled (cancelSampleJob)',
  values: JOB_STATUS_VALUES,
});

export const SamplerKindEnum = builder.enumType('SamplerKind', {
  description:
    "DDIM: deterministic for eta = 0. DDPM: ancestral sampling (uses a learned variance when the model has one). DPMPP_2M: DPM-Solver++(2M), second-order ODE solver. DPMPP_2M_SDE (default): its stochastic form, which corrects a briefly trained model's errors where the deterministic samplers leave grain (docs/samplers.md).",
  values: {
    DDIM: { value: 'ddim' },
    DDPM: { value: 'ddpm' },
    DPMPP_2M: { value: 'dpmpp-2m' },
    DPMPP_2M_SDE: { value: 'dpmpp-2m-sde' },
  } as const,
});

const InterpolationParamsRef = builder.objectRef<InterpolationParams>('InterpolationParams').implement({
  description: 'An interpolation job: the two images of the training dataset version, by index, and the frame count.',
  fields: (t) => ({
    datasetVersionId: t.exposeID('datasetVersionId'),
    indexA: t.exposeInt('indexA'),
    indexB: t.exposeInt('indexB'),
    frames: t.exposeInt('frames'),
  }),
});

const SampleParamsRef = builder.objectRef<SampleParams>('SampleParams').implement({
  description: 'What the job was asked for; the same params on the same model version give the same PNG bytes.',
  fields: (t) => ({
    count: t.exposeInt('count'),
    steps: t.exposeInt('steps'),
    sampler: t.field({ type: SamplerKindEnum, resolve: (p) => p.sampler }),
    eta: t.exposeFloat('eta'),
    seed: t.exposeInt('seed'),
    guidance: t.exposeFloat('guidance', { nullable: true }),
    label: t.exposeString('label', { nullable: true }),
    labelId: t.exposeInt('labelId', { nullable: true }),
    temperature: t.float({
      nullable: true,
      description: 'Glow models: the temperature sampled at.',
      resolve: (p) => p.temperature ?? null,
    }),
    interpolation: t.field({
      type: InterpolationParamsRef,
      nullable: true,
      description: 'Set on interpolateDatasetImages jobs (their images are the frames, in order); null on sample jobs.',
      resolve: (p) => p.interpolation ?? null,
    }),
  }),
});

const SampleImageRef = builder.objectRef<{ index: number; url: string; expiresAt: Date }>('SampleImage').implement({
  fields: (t) => ({
    index: t.exposeInt('index'),
    url: t.exposeString('url', {
      description: 'PNG download URL, valid for 5 minutes (query the job again for fresh ones).',
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

const SampleProgressRef = builder.objectRef<SampleJobView['job']>('SampleProgress').implement({
  fields: (t) => ({
    stepsDone: t.exposeInt('stepsDone'),
    stepsTotal: t.exposeInt('stepsTotal'),
    fraction: t.float({
      resolve: (j) => (j.status === 'succeeded' ? 1 : j.stepsTotal > 0 ? Math.min(1, j.stepsDone / j.stepsTotal) : 0),
    }),
  }),
});

export const SampleJobRef = builder.objectRef<SampleJobView>('SampleJob').implement({
  description: 'A generateSamples request: queued in a fair per-team queue, run by the hub’s sampling worker threads.',
  fields: (t) => ({
    id: t.id({ resolve: (v) => v.job.id }),
    modelVersionId: t.id({ resolve: (v) => v.job.modelVersionId }),
    status: t.field({ type: SampleJobStatusEnum, resolve: (v) => v.job.status }),
    queuePosition: t.int({
      nullable: true,
      description: '0-based place in the queue while QUEUED (0 = starts next); null otherwise.',
      resolve: (v) => v.queuePosition,
    }),
    progress: t.field({ type: SampleProgressRef, resolve: (v) => v.job }),
    params: t.field({ type: SampleParamsRef, resolve: (v) => v.job.params as unknown as SampleParams }),
    images: t.field({
      type: [SampleImageRef],
      description: 'One PNG per sample once SUCCEEDED (short-lived URLs).',
      resolve: (v, _a, ctx) => ctx.services.sampling.imageUrls(v.job),
    }),
    error: t.string({ nullable: true, resolve: (v) => v.job.error }),
    queuedAt: t.field({ type: 'DateTime', resolve: (v) => v.job.queuedAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (v) => v.job.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (v) => v.job.finishedAt }),
  }),
});

const GenerateSamplesInput = builder.inputType('GenerateSamplesInput', {
  fields: (t) => ({
    modelVersionId: t.id({ required: true }),
    count: t.int({ required: true, description: 'Images to generate, 1–64.' }),
    steps: t.int({ description: "Denoising steps, 1–min(1000, the model's timesteps). Default 50." }),
    sampler: t.field({ type: SamplerKindEnum, description: 'Default DPMPP_2M_SDE.' }),
    eta: t.float({ description: 'DDIM stochasticity in [0, 1]; default 0 (deterministic).' }),
    seed: t.int({ description: 'Default: random (returned in params). Same seed and settings → same images.' }),
    guidance: t.float({
      description:
        'Classifier-free guidance scale in [0, 20]; class-conditional diffusion models only, needs label. Default with a label: 3, as the run grids and evaluations (1 = the conditional model alone, no guidance).',
    }),
    label: t.string({ description: "One of the model version's labelNames (class-conditional models only)." }),
    temperature: t.float({
      description:
        'Glow models only: temperature of the priors in (0, 2], default 0.7 (lower: cleaner, less varied). steps and sampler do not apply to Glow (one inverse pass).',
    }),
    shareToken: t.string({ description: 'A share link token (dpl_share_…) for sampling without an account.' }),
  }),
});

const InterpolateDatasetImagesInput = builder.inputType('InterpolateDatasetImagesInput', {
  fields: (t) => ({
    modelVersionId: t.id({ required: true, description: 'A Glow model version (diffusion versions are refused).' }),
    indexA: t.int({
      required: true,
      description:
        "First image: its index among the accepted images of the dataset version the model was trained on (DatasetFile.index; the thumbnail sheets' order).",
    }),
    indexB: t.int({ required: true, description: 'Last image, indexed like indexA.' }),
    steps: t.int({ description: 'Frames in the strip, both ends included: 2–16, default 8.' }),
    shareToken: t.string({
      description: 'Accepted only to be refused clearly: a share link cannot read training images.',
    }),
  }),
});

builder.objectField(ModelVersionRef, 'mySampleJobs', (t) =>
  t.field({
    type: [SampleJobRef],
    description:
      'Your sample jobs on this version (generateSamples and interpolations; not those made through share links), newest first, `first` 1–50 (default 10). Signed-in readers of the model; a share link is refused.',
    args: { first: t.arg.int({ defaultValue: 10 }) },
    resolve: (v, { first }, ctx) => {
      if (v.access.principal.kind === 'shareLink')
        throw forbidden('A share link sees only the jobs it made, by their ids (sampleJob)');
      return ctx.services.sampling.mineForVersion(ctx, v.version.id, first);
    },
  }),
);

builder.queryFields((t) => ({
  sampleJob: t.field({
    type: SampleJobRef,
    description: 'NOT_FOUND unless you may read the model (a share link sees only jobs made through it).',
    args: { id: t.arg.id({ required: true }), shareToken: t.arg.string() },
    resolve: (_r, { id, shareToken }, ctx) => ctx.services.sampling.get(ctx, String(id), shareToken),
  }),
}));

builder.mutationFields((t) => ({
  generateSamples: t.field({
    type: SampleJobRef,
    description:
      'Queues a sample job (viewers and up, or a share link of the model). BAD_USER_INPUT names the bad field.',
    args: { input: t.arg({ type: GenerateSamplesInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      ctx.services.sampling.generate(ctx, {
        ...input,
        modelVersionId: String(input.modelVersionId),
        sampler: input.sampler ?? undefined,
        steps: input.steps ?? undefined,
        temperature: input.temperature ?? undefined,
        eta: input.eta ?? undefined,
        seed: input.seed ?? undefined,
      }),
  }),
  interpolateDatasetImages: t.field({
    type: SampleJobRef,
    description:
      "Queues a job that decodes `steps` frames along the straight line between the Glow latents of two training images (first and last frame: the two images at the model's bit depth). A sample job like generateSamples (same queue, sampleJob/sampleJobUpdated/cancelSampleJob); its images are the frames. Needs sampling rights on the model AND membership of the training dataset's team (FORBIDDEN otherwise, also for share links). BAD_USER_INPUT names the bad field.",
    args: { input: t.arg({ type: InterpolateDatasetImagesInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      ctx.services.sampling.interpolate(ctx, {
        ...input,
        modelVersionId: String(input.modelVersionId),
        steps: input.steps ?? undefined,
      }),
  }),
  cancelSampleJob: t.field({
    type: SampleJobRef,
    description:
      'Stops a QUEUED or RUNNING job (it becomes CANCELLED; a running one stops within a denoising step). Its requester, the share link that made it, or a team admin. A finished job is returned unchanged.',
    args: { id: t.arg.id({ required: true }), shareToken: t.arg.string() },
    resolve: (_r, { id, shareToken }, ctx) => ctx.services.sampling.cancel(ctx, String(id), shareToken),
  }),
}));

builder.subscriptionFields((t) => ({
  sampleJobUpdated: t.field({
    type: SampleJobRef,
    description:
      'The job now, then after every change (queue position, progress, result). Works across hub instances (LISTEN/NOTIFY).',
    args: { id: t.arg.id({ required: true }), shareToken: t.arg.string() },
    subscribe: async (_r, { id, shareToken }, ctx) => {
      await ctx.services.samplingSignals.listen();
      const first = await ctx.services.sampling.get(ctx, String(id), shareToken);
      ctx.streamAccess?.recheckWith((fresh) => fresh.services.sampling.get(fresh, first.job.id, shareToken));
      const signals = ctx.services.samplingSignals.pubsub.subscribe(sampleJobChannel(first.job.id));
      return startWith(
        first,
        mapSignals(signals, () => ctx.services.sampling.reload(first.job.id)),
      );
    },
    resolve: (view) => view,
  }),
}));
