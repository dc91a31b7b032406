import type { Evaluation } from '@dapple/db';
import type { SamplerKind } from '@dapple/models/diffusion/samplers/kinds';
import { comparableKey, evaluationChannel, type EvaluationParams } from '../../services/evaluations/index.ts';
import { mapSignals, startWith } from '../iterators.ts';
import { builder } from '../builder.ts';
import { JOB_STATUS_VALUES } from './sampling.ts';

const EvaluationStatusEnum = builder.enumType('EvaluationStatus', { values: JOB_STATUS_VALUES });

const ExtractorKindEnum = builder.enumType('EvaluationExtractorKind', {
  description:
    'OFFLINE: built-in random conv features (+ a random softmax head for IS); works without downloads, NOT comparable to published numbers. ' +
    'INCEPTION: the InceptionV3 graph model configured on the hub (paper-comparable FID/IS); see docs/evaluation.md.',
  values: { OFFLINE: { value: 'offline' }, INCEPTION: { value: 'inception' } } as const,
});

const MeanStdRef = builder.objectRef<{ mean: number; std: number }>('MeanStd').implement({
  fields: (t) => ({ mean: t.exposeFloat('mean'), std: t.exposeFloat('std') }),
});

const params = (e: Evaluation) => e.params as unknown as EvaluationParams;

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
      description: 'extractor | sample count | reference data. Only evaluations with the same key are comparable.',
      resolve: (e) => comparableKey(e),
    }),
    kid: t.field({
      type: MeanStdRef,
      nullable: true,
      description: 'Kernel Inception Distance, mean ± std over 100 subsets.',
      resolve: (e) => (e.kidMean === null ? null : { mean: e.kidMean, std: e.kidStd ?? 0 }),
    }),
    fid: t.exposeFloat('fid', { nullable: true }),
    inceptionScore: t.field({
      type: MeanStdRef,
      nullable: true,
      resolve: (e) => (e.isMean === null ? null : { mean: e.isMean, std: e.isStd ?? 0 }),
    }),
    realInceptionScore: t.field({
      type: MeanStdRef,
      nullable: true,
      description: 'IS of as many real images with the same extractor: the ceiling to read inceptionScore against.',
      resolve: (e) =>
        params(e).realIsMean === undefined ? null : { mean: params(e).realIsMean!, std: params(e).realIsStd ?? 0 },
    }),
    steps: t.int({ resolve: (e) => params(e).steps }),
    sampler: t.string({ resolve: (e) => params(e).sampler.toUpperCase() }),
    seed: t.int({ resolve: (e) => params(e).seed }),
    error: t.exposeString('error', { nullable: true }),
    queuedAt: t.expose('queuedAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});

const ComparableGroupRef = builder.objectRef<{ key: string; rows: Evaluation[] }>('ComparableEvaluations').implement({
  description: 'Finished evaluations that may be compared: same extractor, same sample count, same reference data.',
  fields: (t) => ({
    comparableKey: t.exposeString('key'),
    extractor: t.string({ resolve: (g) => g.rows[0]!.extractor }),
    numSamples: t.int({ resolve: (g) => g.rows[0]!.numSamples }),
    evaluations: t.field({ type: [EvaluationRef], resolve: (g) => g.rows }),
  }),
});

const EvaluateModelInput = builder.inputType('EvaluateModelInput', {
  fields: (t) => ({
    modelVersionId: t.id({ required: true }),
    datasetVersionId: t.id({
      required: true,
      description: 'A ready dataset version at the model’s resolution and channels.',
    }),
    numSamples: t.int({ required: true, description: '10–10000 generated images, and as many real ones.' }),
    extractor: t.field({ type: ExtractorKindEnum, description: 'Default OFFLINE.' }),
    steps: t.int({ description: 'Sampler steps; default 50.' }),
    sampler: t.string({ description: 'dpmpp-2m-sde (default) | dpmpp-2m | ddim | ddpm' }),
    eta: t.float(),
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
      'Queues KID/FID/IS of a model version against a dataset version (anyone who may sample the model and read the dataset).',
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
        ...(input.seed !== null && input.seed !== undefined ? { seed: input.seed } : {}),
      }),
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
