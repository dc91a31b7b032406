import type { Evaluation, EvaluationPhase } from '@dapple/db';
import type { SamplerKind } from '@dapple/models/config';
import { comparableKey, evaluationChannel, evaluationParams, labelSet } from '../../services/evaluations/index.ts';
import { mapSignals, startWith } from '../iterators.ts';
import { forbidden } from '../../services/errors.ts';
import { builder } from '../builder.ts';
import { ModelRef, ModelVersionRef } from './models.ts';
import { JOB_STATUS_VALUES } from './sampling.ts';

const EvaluationStatusEnum = builder.enumType('EvaluationStatus', { values: JOB_STATUS_VALUES });

const EvaluationPhaseEnum = builder.enumType('EvaluationPhase', {
  description:
    "CLASSIFIER: loading the dataset version's classifier, or training it (the first evaluation of a labelled version). GENERATING: sampling the model (samplesDone counts). MEASURING: the features of the generated and the real images, then the numbers.",
  values: {
    CLASSIFIER: { value: 'classifier' },
    GENERATING: { value: 'generating' },
    MEASURING: { value: 'measuring' },
  } as const,
});

const PhaseSpanRef = builder
  .objectRef<{ phase: EvaluationPhase; startedAt: Date; seconds: number }>('EvaluationPhaseSpan')
  .implement({
    description: 'One phase of a finished evaluation and how long it took.',
    fields: (t) => ({
      phase: t.field({ type: EvaluationPhaseEnum, resolve: (s) => s.phase }),
      startedAt: t.expose('startedAt', { type: 'DateTime' }),
      seconds: t.exposeFloat('seconds'),
    }),
  });

/** The stored phase starts of a finished evaluation as spans: each ends where the next begins, the last at finishedAt. */
function phaseSpans(e: Evaluation): { phase: EvaluationPhase; startedAt: Date; seconds: number }[] {
  const starts = params(e).phases ?? [];
  return starts.map((p, i) => {
    const startedAt = new Date(p.startedAt);
    const end = starts[i + 1] ? new Date(starts[i + 1]!.startedAt) : e.finishedAt;
    return { phase: p.phase, startedAt, seconds: end ? (end.getTime() - startedAt.getTime()) / 1000 : 0 };
  });
}

const ExtractorKindEnum = builder.enumType('EvaluationExtractorKind', {
  description:
    'PRETRAINED (default): a pretrained MobileNetV2 that installs with npm (1280-d features, no IS head); not comparable to published numbers. ' +
    'OFFLINE: the legacy random conv features (+ a random softmax head for IS): cannot tell good from bad, kept to recompute old rows. ' +
    'INCEPTION: the InceptionV3 graph model configured on the hub (paper-comparable FID/IS); see docs/evaluation.md.',
  values: {
    PRETRAINED: { value: 'pretrained' },
    OFFLINE: { value: 'offline' },
    INCEPTION: { value: 'inception' },
  } as const,
});

const MeanStdRef = builder.objectRef<{ mean: number; std: number }>('MeanStd').implement({
  fields: (t) => ({ mean: t.exposeFloat('mean'), std: t.exposeFloat('std') }),
});

const params = evaluationParams;

type ClassifierInfo = NonNullable<ReturnType<typeof params>['classifier']>;
const DatasetClassifierRef = builder.objectRef<ClassifierInfo>('DatasetClassifier').implement({
  description:
    "The dataset version's own classifier (trained once on its labelled images, cached in the object store and reused by later evaluations).",
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Network, input size, classes, seed, steps and training images.' }),
    heldOutAccuracy: t.exposeFloat('heldOutAccuracy', {
      description: 'Its accuracy on real images held out of its training: the ceiling for sampleAccuracy.',
    }),
    objectKey: t.exposeString('objectKey', { description: 'Where it is cached (model.json; weights.bin beside it).' }),
    reused: t.exposeBoolean('reused', {
      description: 'False when this evaluation trained it; true when it was loaded from the cache.',
    }),
  }),
});

type AccuracyInfo = NonNullable<ReturnType<typeof params>['sampleAccuracy']>;
const ClassAccuracyRef = builder.objectRef<AccuracyInfo['perClass'][number]>('ClassSampleAccuracy').implement({
  fields: (t) => ({
    label: t.exposeInt('label', { description: "The model's class id." }),
    name: t.exposeString('name'),
    count: t.exposeInt('count', { description: 'Samples generated for this class.' }),
    correct: t.exposeInt('correct', { description: 'Of them, classified as this class.' }),
    accuracy: t.float({ nullable: true, resolve: (r) => (Number.isFinite(r.accuracy) ? r.accuracy : null) }),
  }),
});
const SampleAccuracyRef = builder.objectRef<AccuracyInfo>('SampleAccuracy').implement({
  description:
    'How often the dataset classifier sees the class each sample was generated for (conditional models). Read against chance (1/K) and the classifier’s heldOutAccuracy.',
  fields: (t) => ({
    accuracy: t.exposeFloat('accuracy'),
    chance: t.exposeFloat('chance'),
    perClass: t.field({ type: [ClassAccuracyRef], resolve: (a) => a.perClass }),
  }),
});

export const EvaluationRef = builder.objectRef<Evaluation>('Evaluation').implement({
  description:
    'KID / FID / IS of a model version against a dataset version. Compare numbers only between evaluations with the same comparableKey.',
  fields: (t) => ({
    id: t.exposeID('id'),
    modelVersionId: t.exposeID('modelVersionId'),
    datasetVersionId: t.exposeID('datasetVersionId', { nullable: true }),
    datasetVersionHash: t.exposeString('datasetVersionHash', { nullable: true }),
    status: t.field({ type: EvaluationStatusEnum, resolve: (e) => e.status }),
    numSamples: t.exposeInt('numSamples'),
    samplesDone: t.int({
      description: 'Images generated so far (then real images are measured).',
      resolve: (e) => e.samplesDone,
    }),
    extractor: t.exposeString('extractor', { description: 'The feature extractor and its configuration.' }),
    paperComparable: t.boolean({
      description:
        'True only for InceptionV3 pool3 at 299×299: FID/IS may be set beside published numbers. Offline numbers never are.',
      resolve: (e) => params(e).paperComparable ?? params(e).extractorKind === 'inception',
    }),
    comparableKey: t.string({
      description:
        'extractor | sample count | reference data | sampler | steps | η | guidance | label set | classifier. Only evaluations with the same key are comparable.',
      resolve: (e) => comparableKey(e),
    }),
    queuePosition: t.int({
      nullable: true,
      description: '0-based place in the queue while QUEUED (0 = starts next); null otherwise.',
      resolve: (e, _a, ctx) => ctx.services.evaluations.queuePosition(e),
    }),
    phase: t.field({
      type: EvaluationPhaseEnum,
      nullable: true,
      description:
        'What a RUNNING evaluation is doing (null until its worker starts on it); for a FAILED or CANCELLED one, where it stopped. Null when QUEUED or SUCCEEDED.',
      resolve: (e) => (e.status === 'queued' || e.status === 'succeeded' ? null : e.phase),
    }),
    phases: t.field({
      type: [PhaseSpanRef],
      description:
        'Where the time of a SUCCEEDED evaluation went, phase by phase (empty for others and for rows from before phases were kept).',
      resolve: (e) => (e.status === 'succeeded' ? phaseSpans(e) : []),
    }),
    viewerCanDelete: t.boolean({
      description:
        'True once it ended (SUCCEEDED, FAILED, CANCELLED) for whoever asked for it and for owners and admins of the model’s team (deleteEvaluation).',
      resolve: async (e, _a, ctx) =>
        ctx.services.evaluations.may('delete', ctx, e, await ctx.loaders.viewerTeamRoles.load(e.teamId)),
    }),
    viewerCanCancel: t.boolean({
      description:
        'True while QUEUED or RUNNING for whoever asked for it and for owners and admins of the model’s team (cancelEvaluation).',
      resolve: async (e, _a, ctx) =>
        ctx.services.evaluations.may('cancel', ctx, e, await ctx.loaders.viewerTeamRoles.load(e.teamId)),
    }),
    kid: t.field({
      type: MeanStdRef,
      nullable: true,
      description:
        'Kernel Inception Distance, mean ± std over 100 subsets of kidSubsetSize rows (std 0 when kidSubsetsDiffer is false).',
      resolve: (e) => (e.kidMean === null ? null : { mean: e.kidMean, std: e.kidStd ?? 0 }),
    }),
    kidSubsetSize: t.int({ nullable: true, resolve: (e) => params(e).kidSubsetSize ?? null }),
    kidSubsetsDiffer: t.boolean({
      nullable: true,
      description: 'False for rows where every KID subset was the whole set: their std says nothing.',
      resolve: (e) => params(e).kidSubsetsDiffer ?? (params(e).kidSubsetSize === undefined ? null : false),
    }),
    fid: t.exposeFloat('fid', { nullable: true }),
    inceptionScore: t.field({
      type: MeanStdRef,
      nullable: true,
      description:
        'IS under the extractor’s class head; null when it has none (PRETRAINED): see datasetInceptionScore.',
      resolve: (e) => (e.isMean === null ? null : { mean: e.isMean, std: e.isStd ?? 0 }),
    }),
    realInceptionScore: t.field({
      type: MeanStdRef,
      nullable: true,
      description: 'IS of as many real images with the same extractor: the ceiling to read inceptionScore against.',
      resolve: (e) =>
        params(e).realIsMean === undefined ? null : { mean: params(e).realIsMean!, std: params(e).realIsStd ?? 0 },
    }),
    classifier: t.field({
      type: DatasetClassifierRef,
      nullable: true,
      description: 'Null when the dataset version has fewer than two labels (or before the evaluation ran).',
      resolve: (e) => params(e).classifier ?? null,
    }),
    sampleAccuracy: t.field({
      type: SampleAccuracyRef,
      nullable: true,
      description: 'Conditional models whose classes the dataset has; null otherwise.',
      resolve: (e) => params(e).sampleAccuracy ?? null,
    }),
    datasetInceptionScore: t.field({
      type: MeanStdRef,
      nullable: true,
      description: 'IS under the dataset’s own classes (1…K): confident and evenly spread over the classes is high.',
      resolve: (e) => params(e).datasetIs ?? null,
    }),
    realDatasetInceptionScore: t.field({
      type: MeanStdRef,
      nullable: true,
      description: 'The dataset IS of as many real images: the ceiling to read datasetInceptionScore against.',
      resolve: (e) => params(e).realDatasetIs ?? null,
    }),
    steps: t.int({ resolve: (e) => params(e).steps }),
    sampler: t.string({ resolve: (e) => params(e).sampler.toUpperCase() }),
    eta: t.float({ resolve: (e) => params(e).eta }),
    guidance: t.float({
      nullable: true,
      description: 'Classifier-free guidance of a conditional model’s samples; null = unguided / unconditional.',
      resolve: (e) => params(e).guidance ?? null,
    }),
    labelSet: t.string({
      description: '`unconditional`, or `all(K)`: samples spread evenly over all K classes of a conditional model.',
      resolve: (e) => labelSet(params(e)),
    }),
    seed: t.int({ resolve: (e) => params(e).seed }),
    error: t.exposeString('error', { nullable: true }),
    queuedAt: t.expose('queuedAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});

const ComparableGroupRef = builder.objectRef<{ key: string; rows: Evaluation[] }>('ComparableEvaluations').implement({
  description:
    'Finished evaluations that may be compared: same extractor, sample count, reference data, sampler settings, label set and classifier.',
  fields: (t) => ({
    comparableKey: t.exposeString('key'),
    extractor: t.string({ resolve: (g) => g.rows[0]!.extractor }),
    numSamples: t.int({ resolve: (g) => g.rows[0]!.numSamples }),
    evaluations: t.field({ type: [EvaluationRef], resolve: (g) => g.rows }),
  }),
});

builder.objectField(ModelVersionRef, 'evaluations', (t) =>
  t.field({
    type: [EvaluationRef],
    description:
      'Evaluations of this version, newest first (only `status` ones when given). Signed-in readers of the model; a share link is refused.',
    args: { status: t.arg({ type: EvaluationStatusEnum }) },
    resolve: async (v, { status }, ctx) => {
      if (v.access.principal.kind === 'shareLink')
        throw forbidden('A share link allows only reading and sampling the model');
      if (!v.access.can('read')) throw forbidden('This needs the read permission on the model');
      const rows = await ctx.loaders.versionEvaluations.load(v.version.id);
      return status ? rows.filter((e) => e.status === status) : rows;
    },
  }),
);

builder.objectField(ModelRef, 'evaluations', (t) =>
  t.field({
    type: [EvaluationRef],
    description:
      'Evaluations of all versions of this model, newest first, only `statuses` ones when given (e.g. the queued, running, failed and cancelled ones; comparableEvaluations groups the finished numbers). Signed-in readers of the model; a share link is refused.',
    args: {
      statuses: t.arg({ type: [EvaluationStatusEnum] }),
      first: t.arg.int({ defaultValue: 20, description: '1–100, default 20.' }),
    },
    resolve: (m, { statuses, first }, ctx) => {
      if (m.access.principal.kind === 'shareLink')
        throw forbidden('A share link allows only reading and sampling the model');
      return ctx.services.evaluations.forModel(ctx, m.model.id, { statuses, first });
    },
  }),
);

const EvaluateModelInput = builder.inputType('EvaluateModelInput', {
  fields: (t) => ({
    modelVersionId: t.id({ required: true }),
    datasetVersionId: t.id({
      required: true,
      description: 'A ready dataset version at the model’s resolution and channels.',
    }),
    numSamples: t.int({ required: true, description: '10–10000 generated images, and as many real ones.' }),
    extractor: t.field({ type: ExtractorKindEnum, description: 'Default PRETRAINED.' }),
    steps: t.int({ description: 'Sampler steps; default 50.' }),
    sampler: t.string({ description: 'dpmpp-2m-sde (default) | dpmpp-2m | ddim | ddpm' }),
    eta: t.float({ description: 'DDIM stochasticity, 0–1; default 0.' }),
    guidance: t.float({
      description:
        'Classifier-free guidance for a class-conditional model (its samples are spread evenly over all its classes); default 3, as the run grids.',
    }),
    seed: t.int({ description: 'Default 0: re-evaluating gives the same numbers.' }),
  }),
});

builder.queryFields((t) => ({
  evaluation: t.field({
    type: EvaluationRef,
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.evaluations.get(ctx, String(id)),
  }),
  evaluations: t.field({
    type: [EvaluationRef],
    description: 'Evaluations of a model version, newest first.',
    authScopes: { authenticated: true },
    args: { modelVersionId: t.arg.id({ required: true }) },
    resolve: (_r, { modelVersionId }, ctx) => ctx.services.evaluations.forVersion(ctx, String(modelVersionId)),
  }),
  comparableEvaluations: t.field({
    type: [ComparableGroupRef],
    description: "Finished evaluations of all of a model's versions, grouped so only comparable numbers sit together.",
    authScopes: { authenticated: true },
    args: { modelId: t.arg.id({ required: true }) },
    resolve: (_r, { modelId }, ctx) => ctx.services.evaluations.comparable(ctx, String(modelId)),
  }),
}));

builder.mutationFields((t) => ({
  evaluateModel: t.field({
    type: EvaluationRef,
    description:
      'Queues KID/FID (and IS), sample accuracy and dataset IS of a model version against a dataset version (anyone who may sample the model and read the dataset).',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: EvaluateModelInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      ctx.services.evaluations.evaluate(ctx, {
        modelVersionId: String(input.modelVersionId),
        datasetVersionId: String(input.datasetVersionId),
        numSamples: input.numSamples,
        ...(input.extractor ? { extractor: input.extractor } : {}),
        ...(input.steps !== null && input.steps !== undefined ? { steps: input.steps } : {}),
        ...(input.sampler ? { sampler: input.sampler.toLowerCase() as SamplerKind } : {}),
        ...(input.eta !== null && input.eta !== undefined ? { eta: input.eta } : {}),
        ...(input.guidance !== null && input.guidance !== undefined ? { guidance: input.guidance } : {}),
        ...(input.seed !== null && input.seed !== undefined ? { seed: input.seed } : {}),
      }),
  }),
}));

builder.mutationFields((t) => ({
  deleteEvaluation: t.boolean({
    description:
      'Deletes an ended evaluation: its numbers leave every table (evaluations of the same version and settings are unaffected). CONFLICT while QUEUED or RUNNING (cancelEvaluation first). Whoever asked for it, or an owner or admin of the model’s team.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.evaluations.delete(ctx, String(id)),
  }),
  cancelEvaluation: t.field({
    type: EvaluationRef,
    description:
      'Cancels a QUEUED or RUNNING evaluation (its worker stops at the next batch; nothing is stored): whoever asked for it, or an owner or admin of the model’s team. A finished evaluation is returned as it is. Its team’s webhooks get evaluation.finished with status CANCELLED.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.evaluations.cancel(ctx, String(id)),
  }),
}));

builder.subscriptionFields((t) => ({
  evaluationUpdated: t.field({
    type: EvaluationRef,
    description: 'The evaluation now, then after every change (progress, result).',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_r, { id }, ctx) => {
      await ctx.services.samplingSignals.listen();
      const first = await ctx.services.evaluations.get(ctx, String(id));
      ctx.streamAccess?.recheckWith((fresh) => fresh.services.evaluations.get(fresh, first.id));
      const signals = ctx.services.samplingSignals.pubsub.subscribe(evaluationChannel(first.id));
      return startWith(
        first,
        mapSignals(signals, () => ctx.services.evaluations.reload(first.id)),
      );
    },
    resolve: (e) => e,
  }),
}));
