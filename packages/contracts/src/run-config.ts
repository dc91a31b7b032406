/**
 * The training-run configuration: one zod schema shared by the hub (validates `startRun` / `forkRun`
 * input before anything is stored) and the trainer (parses what the hub hands it). Kept free of
 * server and TF.js imports so the trainer, the CLI and the web app can all load it.
 */
import {
  PRESET_NAMES,
  presetConfig,
  type PresetName,
  type UNetConfig,
  DEFAULT_CLASS_GUIDANCE,
  DEFAULT_SAMPLER,
  DEFAULT_SAMPLE_STEPS,
  SAMPLER_KINDS,
  PRECISIONS,
  type TrainingPrecision,
} from '@dapple/models/config';
import { z } from 'zod';
import { conditioningField, heldOutFields, int, RUN_LIMITS, type Conditioning } from './run-config-common.ts';
import { GlowRunConfigSchema, type GlowRunConfig } from './run-config-glow.ts';

export { CONDITIONINGS, RUN_LIMITS, type Conditioning } from './run-config-common.ts';

/** Default probability of training with the null label instead of the image's class (CFG, Ho & Salimans 2022). */
export const DEFAULT_LABEL_DROPOUT = 0.1;

/** Steps a run trains when the user leaves them out: enough for each preset to give recognisable samples. */
export const PRESET_DEFAULT_STEPS: Record<PresetName, number> = { tiny: 2_000, small: 100_000, base: 800_000 };

/** Architecture overrides on top of the preset (anything left out keeps the preset's value). */
export const ModelOverridesSchema = z
  .object({
    resolution: int(4, 1024).optional(),
    baseChannels: int(4, 512).optional(),
    channelMults: z.array(int(1, 16)).min(1).max(6).optional(),
    numResBlocks: int(1, 8).optional(),
    attentionResolutions: z.array(int(1, 1024)).max(6).optional(),
    dropout: z.number().min(0).max(0.9).optional(),
    groups: int(1, 64).optional(),
    learnSigma: z.boolean().optional(),
    /**
     * ADM's scale-shift norm: the time/class embedding scales and shifts each res block after its GroupNorm
     * (docs/samplers.md: a better denoiser at equal steps). Left out: the preset's (off), as in older runs.
     */
    scaleShiftNorm: z.boolean().optional(),
  })
  .strict();
export type ModelOverrides = z.infer<typeof ModelOverridesSchema>;

/**
 * KL terms per held-out evaluation of a DDPM run: with the decoder term, 9 forward passes over the held-out
 * images (128 by default, about a dozen training steps' work every 250 steps).
 */
export const DEFAULT_HELD_OUT_TIMESTEPS = 8;

/** Grid and checkpoint intervals of long runs. */
export const DEFAULT_SAMPLE_EVERY = 500;
export const DEFAULT_CHECKPOINT_EVERY = 1000;

/**
 * An interval's default for a run of `steps`: the long-run default, or a fifth of the run when that is sooner,
 * so a short run shows grids and a checkpoint while it trains rather than only at its end.
 */
export function everyDefault(longRunDefault: number, steps: number): number {
  return Math.max(1, Math.min(longRunDefault, Math.floor(steps / 5)));
}

/** A diffusion (DDPM) run: a UNet trained on the noise-prediction loss. */
export const DdpmRunConfigSchema = z
  .object({
    /** Left out means ddpm (every config from before Glow); kept out of the output so stored configs stay as they were. */
    architecture: z.literal('ddpm').optional(),
    preset: z.enum(PRESET_NAMES as [PresetName, ...PresetName[]], {
      error: (issue) => `unknown preset ${JSON.stringify(issue.input)}: must be one of ${PRESET_NAMES.join(', ')}`,
    }),
    model: ModelOverridesSchema.default({}),
    /** Optimizer updates to run in total; default PRESET_DEFAULT_STEPS[preset]. */
    steps: int(1, RUN_LIMITS.maxSteps).optional(),
    batchSize: int(1, RUN_LIMITS.maxBatchSize).default(32),
    /** Gradient accumulation chunk (same update, less memory); default min(batchSize, 32). */
    microBatch: int(1, RUN_LIMITS.maxMicroBatch).optional(),
    lr: z.number().positive('must be > 0').max(1, 'must be at most 1').default(2e-4),
    warmupSteps: int(0, RUN_LIMITS.maxSteps).default(0),
    lrDecay: z.enum(['constant', 'cosine']).default('constant'),
    optimizer: z.enum(['adam', 'adamw']).default('adamw'),
    weightDecay: z.number().min(0).max(1).default(0),
    clipNorm: z.number().positive().max(1e6).default(1),
    /**
     * fp32, or mixed-f16: on a webgpu GPU with shader-f16 the convolutions stage their tiles in f16 and the loss is
     * scaled dynamically; elsewhere the trainer trains in fp32 and says so in its log. Left out: fp32 (and kept out
     * of the output, so stored configs stay as they were).
     */
    precision: z
      .enum(PRECISIONS as unknown as [TrainingPrecision, ...TrainingPrecision[]], {
        error: (issue) => `unknown precision ${JSON.stringify(issue.input)}: must be one of ${PRECISIONS.join(', ')}`,
      })
      .optional(),
    schedule: z.enum(['linear', 'cosine']).default('cosine'),
    timesteps: int(10, RUN_LIMITS.maxTimesteps).default(1000),
    prediction: z.enum(['eps', 'v', 'x0']).default('eps'),
    conditioning: conditioningField(),
    /** Class-conditional runs: the number of classes, the dataset version's label count (the hub fills it in). */
    numClasses: int(1, RUN_LIMITS.maxClasses).optional(),
    /** Class-conditional runs: probability of the null label per image, so one model also samples unconditionally (CFG). */
    labelDropout: z.number().min(0, 'must be at least 0').max(1, 'must be at most 1').default(DEFAULT_LABEL_DROPOUT),
    /** EMA max decay; 0 disables the EMA (samples then use the raw weights). */
    emaDecay: z.number().min(0).max(0.99999).default(0.9999),
    /** A sample grid every N steps (and at step 0 and the last step); default: see everyDefault. */
    sampleEvery: int(1, RUN_LIMITS.maxSteps).optional(),
    sampleCount: int(1, RUN_LIMITS.maxSampleCount).default(16),
    /**
     * Sampler of the grids: SDE-DPM-Solver++(2M) by default, which on briefly trained models gives what DDPM gives
     * in 100–1,000 steps, where deterministic DDIM leaves grain (docs/samplers.md).
     */
    sampleSampler: z
      .enum(SAMPLER_KINDS, {
        error: (issue) => `unknown sampler ${JSON.stringify(issue.input)}: must be one of ${SAMPLER_KINDS.join(', ')}`,
      })
      .default(DEFAULT_SAMPLER),
    /** Sampler steps per grid. */
    sampleSteps: int(1, RUN_LIMITS.maxSampleSteps).default(DEFAULT_SAMPLE_STEPS),
    /**
     * Class-conditional runs: classifier-free guidance scale of the grid's class rows (1 = the conditional model
     * alone, > 1 pushes each row towards its class). Ignored by unconditional runs.
     */
    sampleGuidance: z
      .number()
      .min(0, 'must be at least 0')
      .max(20, 'must be at most 20')
      .default(DEFAULT_CLASS_GUIDANCE),
    /** Seed of the grid's noise: the same for every grid of every run by default, so grids compare across steps and runs. */
    sampleSeed: int(0, 2 ** 31 - 1).default(20261126),
    /** A checkpoint every M steps (and a final one); default: see everyDefault. */
    checkpointEvery: int(1, RUN_LIMITS.maxSteps).optional(),
    keepCheckpoints: int(1, RUN_LIMITS.maxKeepCheckpoints).default(3),
    /** Seconds between metric batches / heartbeats sent to the hub. */
    reportEverySec: z.number().min(0.2).max(60).default(2),
    /** Held-out bits/dim from the variational bound (metrics/vlb.ts), on the split Glow runs hold out too. */
    ...heldOutFields(),
    /**
     * KL terms of the bound each held-out evaluation computes (one timestep per stratum, an unbiased estimate;
     * the prior and decoder terms are exact): each costs one forward pass over the held-out images.
     * timesteps − 1 or more: the full bound.
     */
    heldOutTimesteps: int(1, RUN_LIMITS.maxTimesteps).default(DEFAULT_HELD_OUT_TIMESTEPS),
  })
  .strict()
  .transform((c) => {
    const steps = c.steps ?? PRESET_DEFAULT_STEPS[c.preset];
    return {
      ...c,
      steps,
      sampleEvery: c.sampleEvery ?? everyDefault(DEFAULT_SAMPLE_EVERY, steps),
      checkpointEvery: c.checkpointEvery ?? everyDefault(DEFAULT_CHECKPOINT_EVERY, steps),
    };
  })
  .superRefine((c, ctx) => {
    if (c.microBatch !== undefined && c.microBatch > c.batchSize) {
      ctx.addIssue({ code: 'custom', path: ['microBatch'], message: `must be at most batchSize (${c.batchSize})` });
    }
    if (c.numClasses !== undefined && c.conditioning !== 'class') {
      ctx.addIssue({
        code: 'custom',
        path: ['numClasses'],
        message: `only class-conditional runs (conditioning: class) have classes`,
      });
    }
    if (c.warmupSteps >= c.steps && c.lrDecay === 'cosine') {
      ctx.addIssue({
        code: 'custom',
        path: ['warmupSteps'],
        message: `must be below steps (${c.steps}) for cosine decay`,
      });
    }
  });

export type DdpmRunConfigInput = z.input<typeof DdpmRunConfigSchema>;
export type DdpmRunConfig = z.output<typeof DdpmRunConfigSchema>;

export const ARCHITECTURES = ['ddpm', 'glow'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/**
 * A run's configuration: `architecture` picks the model family (left out: ddpm, so every config from before
 * Glow parses as it did). Each branch has its own presets and fields; a field of the other branch is an error
 * naming it.
 */
export const RunConfigSchema = z.discriminatedUnion('architecture', [DdpmRunConfigSchema, GlowRunConfigSchema], {
  error: (issue) =>
    issue.code === 'invalid_union' && issue.note === 'No matching discriminator'
      ? `unknown architecture ${JSON.stringify((issue.input as { architecture?: unknown } | null)?.architecture)}: must be ddpm or glow`
      : undefined,
});

export type RunConfigInput = z.input<typeof RunConfigSchema>;
export type RunConfig = z.output<typeof RunConfigSchema>;

/** The architecture a stored config means (configs from before the field are ddpm). */
export function architectureOf(config: Pick<RunConfig, 'architecture'>): Architecture {
  return config.architecture ?? 'ddpm';
}

export function isGlowRunConfig(config: RunConfig): config is GlowRunConfig {
  return config.architecture === 'glow';
}

/** The conditioning a stored config means (configs from before the option are unconditional). */
export function conditioningOf(config: Pick<RunConfig, 'conditioning'>): Conditioning {
  return config.conditioning ?? 'none';
}

/**
 * The UNet a run trains: the preset with the overrides, the dataset's channel count and, for class-conditional
 * runs, numClasses (which must be set by then: the hub fills it in from the dataset at startRun).
 */
export function unetConfigFor(config: DdpmRunConfig, channels: number): UNetConfig {
  const m = config.model;
  const overrides: Partial<UNetConfig> = { channels };
  if (conditioningOf(config) === 'class') {
    if (config.numClasses === undefined)
      throw new Error('a class-conditional run config needs numClasses (the dataset label count)');
    overrides.numClasses = config.numClasses;
  }
  for (const key of [
    'resolution',
    'baseChannels',
    'channelMults',
    'numResBlocks',
    'attentionResolutions',
    'dropout',
    'groups',
    'learnSigma',
    'scaleShiftNorm',
  ] as const) {
    if (m[key] !== undefined) (overrides as Record<string, unknown>)[key] = m[key];
  }
  return presetConfig(config.preset, overrides);
}

/** Micro-batch actually used: accumulate in chunks of ≤ 32 images unless told otherwise. */
export function effectiveMicroBatch(config: Pick<RunConfig, 'microBatch' | 'batchSize'>): number {
  return config.microBatch ?? Math.min(config.batchSize, 32);
}
