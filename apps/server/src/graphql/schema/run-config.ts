/**
 * The run config in GraphQL, generated from the zod RunConfigSchema (graphql/config-types.ts): the RunConfig
 * output type, the RunConfigInput / RunTrainingOverridesInput inputs and their enums, plus the presets with the
 * defaults they resolve to on a dataset version (runPresets).
 */
import { PRESET_DEFAULT_STEPS } from '@dapple/contracts/run-config';
import { runConfigShape } from '@dapple/contracts/run-config-shape';
import { ARCHITECTURE_FIELDS, type RunPresetView } from '../../services/runs/index.ts';
import { builder } from '../builder.ts';
import { ConfigTypes } from '../config-types.ts';
import { ArchitectureEnum } from './glow.ts';
import { SamplerKindEnum } from './sampling.ts';

const steps = Object.entries(PRESET_DEFAULT_STEPS)
  .map(([p, n]) => `${p.toUpperCase()} ${n}`)
  .join(', ');

const types = new ConfigTypes(runConfigShape(), {
  objects: { '': 'RunConfig', model: 'ModelOverrides' },
  enums: {
    preset: 'RunPreset',
    lrDecay: 'LrDecay',
    optimizer: 'Optimizer',
    schedule: 'NoiseSchedule',
    prediction: 'Prediction',
    conditioning: 'Conditioning',
    precision: 'Precision',
  },
  existingEnums: { sampleSampler: SamplerKindEnum, architecture: ArchitectureEnum },
  docs: {
    preset: 'The network size; runPresets describes each and the defaults it gives on a dataset version.',
    model: "Architecture changes on top of the preset; anything left out keeps the preset's value.",
    'model.resolution':
      "Image side the UNet trains at. Left out of startRun: the dataset version's (which it must equal).",
    'model.scaleShiftNorm':
      'ADM scale-shift norm: the time/class embedding scales and shifts each res block after its GroupNorm.',
    steps: `Optimizer updates in total. Default per preset (${steps}).`,
    batchSize: 'Images per update.',
    microBatch: 'Gradient accumulation chunk (same update, less memory). Default min(batchSize, 32).',
    warmupSteps: 'Linear learning-rate warm-up.',
    precision:
      'FP32 (left out), or MIXED_F16: on a WebGPU GPU with shader-f16, f16 convolution tiles and dynamic loss scaling; elsewhere the run trains in fp32 and its log says so.',
    emaDecay: 'EMA max decay; 0 disables the EMA (samples then use the raw weights).',
    conditioning:
      "CLASS: the UNet is conditioned on the dataset labels. Left out of startRun: the base model's when fine-tuning, else CLASS when the dataset version has ≥ 2 labels (top-level folders), else NONE; CLASS on an unlabelled dataset is BAD_USER_INPUT.",
    numClasses:
      'Class-conditional runs: the number of dataset labels, filled in from the dataset (giving another number is BAD_USER_INPUT).',
    labelDropout:
      'Class-conditional runs: probability of training on the null label per image (classifier-free guidance).',
    sampleEvery: 'A sample grid every N steps (and at step 0 and the last step).',
    sampleCount: 'Images per sample grid.',
    sampleSampler: 'Sampler of the sample grids.',
    sampleSteps: 'Sampler steps per grid.',
    sampleGuidance: "Class-conditional runs: classifier-free guidance scale of the grid's class rows (1 = none).",
    sampleSeed: 'Seed of the grids’ noise: the same for every grid by default, so grids compare across steps and runs.',
    checkpointEvery: 'A checkpoint every N steps (and a final one).',
    keepCheckpoints: 'Checkpoints kept (older ones are deleted).',
    reportEverySec: 'Seconds between metric batches / heartbeats the trainer sends.',
  },
});

/** The stored config, parsed: defaults filled in, steps and conditioning always set (see Run.config). */
export const RunConfigRef = types.output({
  description: 'The validated training configuration (defaults filled in).',
  alwaysSet: ['steps', 'conditioning', 'sampleEvery', 'checkpointEvery'],
});

builder.objectField(RunConfigRef, 'json', (t) =>
  t.field({
    type: 'RunConfigJSON',
    description:
      'The whole config as stored and handed to the trainer (what forkRun overrides merge into), as a JSON object.',
    resolve: (c) => c as never,
  }),
);

export const RunConfigInput = types.input('RunConfigInput', {
  description:
    'A preset plus overrides; see RunConfig for the defaults. Validated on the server (errors name the field).',
});

export const RunTrainingOverridesInput = types.input('RunTrainingOverridesInput', {
  description: 'What a fork may change: everything but the architecture.',
  omit: ARCHITECTURE_FIELDS,
  nestedSuffix: 'OverridesInput',
});

const RunPresetInfoRef = builder.objectRef<RunPresetView>('RunPresetInfo').implement({
  description: 'A preset, with what it resolves to on a dataset version (or on its own).',
  fields: (t) => ({
    architecture: t.field({
      type: ArchitectureEnum,
      description: 'The model family the preset builds (the presets of both are listed).',
      resolve: (p) => p.architecture,
    }),
    preset: t.field({ type: types.enumAt('preset') as never, resolve: (p) => p.preset as never }),
    description: t.exposeString('description'),
    defaults: t.field({
      type: RunConfigRef,
      nullable: true,
      description:
        'The config startRun stores for { preset } alone (on the dataset version, with its resolution and labels).',
      resolve: (p) => p.defaults as never,
    }),
    error: t.exposeString('error', {
      nullable: true,
      description: 'Why the preset cannot train on the dataset version as it is (defaults is then null).',
    }),
    resolution: t.exposeInt('resolution'),
    channels: t.exposeInt('channels'),
    parameters: t.exposeInt('parameters', { description: 'Trainable parameters (of the UNet, or of the flow).' }),
  }),
});

builder.queryFields((t) => ({
  runPresets: t.field({
    type: [RunPresetInfoRef],
    description:
      "The presets of every architecture (DDPM's, then Glow's) and their defaults. With datasetVersionId: exactly what startRun would store for { preset } alone on that version (its resolution, conditioning from its labels); the dashboard's new-run form shows these.",
    authScopes: { authenticated: true },
    args: { datasetVersionId: t.arg.id() },
    resolve: (_r, { datasetVersionId }, ctx) =>
      ctx.services.runPresets.list(ctx, datasetVersionId ? String(datasetVersionId) : null),
  }),
}));
