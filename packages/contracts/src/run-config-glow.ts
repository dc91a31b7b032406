/**
 * The Glow branch of the run configuration (`architecture: 'glow'`): a normalizing flow trained by exact
 * maximum likelihood (packages/models/src/glow). Its bounds are the model's own (GLOW_LIMITS), its presets the
 * model's (glow-tiny/small/base); the training defaults are the ones measured on glow-tiny
 * (GLOW_TRAINING_DEFAULTS). DDPM-only fields (noise schedule, sampler, guidance, label dropout…) are refused
 * with an error naming the field instead of being silently ignored.
 */
import {
  GLOW_LIMITS,
  validateGlowConfig,
  type GlowConfig,
  GLOW_PRESET_NAMES,
  GLOW_TRAINING_DEFAULTS,
  glowPresetConfig,
  type GlowPresetName,
} from '@dapple/models/config';
import { z } from 'zod';
import { conditioningField, heldOutFields, int, RUN_LIMITS } from './run-config-common.ts';

/** Steps a Glow run trains when the user leaves them out, by preset (sized like the UNet presets'). */
export const GLOW_PRESET_DEFAULT_STEPS: Record<GlowPresetName, number> = {
  'glow-tiny': 2_000,
  'glow-small': 100_000,
  'glow-base': 800_000,
};

/** Temperatures of the sample grids (one grid row block per temperature): Glow's samples are cleaner below 1. */
export const DEFAULT_SAMPLE_TEMPERATURES = [GLOW_TRAINING_DEFAULTS.temperature, 1.0];
export const MAX_SAMPLE_TEMPERATURES = 4;

const limit = (field: keyof typeof GLOW_LIMITS) => int(GLOW_LIMITS[field][0], GLOW_LIMITS[field][1]);

/** Overrides of the preset's flow (anything left out keeps the preset's value). */
export const GlowModelOverridesSchema = z
  .object({
    /** Must be divisible by 2^levels: every level starts with a 2×2 squeeze. */
    resolution: limit('resolution').optional(),
    levels: limit('levels').optional(),
    depth: limit('depth').optional(),
    hiddenChannels: limit('hiddenChannels').optional(),
    coupling: z
      .enum(['affine', 'additive'], {
        error: (issue) => `unknown coupling ${JSON.stringify(issue.input)}: must be affine or additive`,
      })
      .optional(),
    /** Bits per colour channel the images are reduced to (bits/dim compare only at equal nBits). */
    nBits: limit('nBits').optional(),
  })
  .strict();
export type GlowModelOverrides = z.infer<typeof GlowModelOverridesSchema>;

/** Fields only a DDPM run has: given for Glow they are errors naming the field (not "unrecognized key"). */
export const DDPM_ONLY_FIELDS = [
  'schedule',
  'timesteps',
  'prediction',
  'labelDropout',
  'sampleSampler',
  'sampleSteps',
  'sampleGuidance',
  'heldOutTimesteps',
] as const;

const ddpmOnly = Object.fromEntries(DDPM_ONLY_FIELDS.map((f) => [f, z.unknown().optional()])) as Record<
  (typeof DDPM_ONLY_FIELDS)[number],
  z.ZodOptional<z.ZodUnknown>
>;

export const GlowRunConfigSchema = z
  .object({
    architecture: z.literal('glow'),
    preset: z.enum(GLOW_PRESET_NAMES as [GlowPresetName, ...GlowPresetName[]], {
      error: (issue) =>
        `unknown Glow preset ${JSON.stringify(issue.input)}: must be one of ${GLOW_PRESET_NAMES.join(', ')}`,
    }),
    model: GlowModelOverridesSchema.default({}),
    /** Optimizer updates to run in total; default GLOW_PRESET_DEFAULT_STEPS[preset]. */
    steps: int(1, RUN_LIMITS.maxSteps).optional(),
    batchSize: int(1, RUN_LIMITS.maxBatchSize).default(GLOW_TRAINING_DEFAULTS.batchSize),
    /** Gradient accumulation chunk (same update, less memory); default min(batchSize, 32). */
    microBatch: int(1, RUN_LIMITS.maxMicroBatch).optional(),
    lr: z.number().positive('must be > 0').max(1, 'must be at most 1').default(GLOW_TRAINING_DEFAULTS.lr),
    /** Actnorm-initialised flows diverge without a warm-up. */
    warmupSteps: int(0, RUN_LIMITS.maxSteps).default(GLOW_TRAINING_DEFAULTS.warmupSteps),
    lrDecay: z.enum(['constant', 'cosine']).default('constant'),
    optimizer: z.enum(['adam', 'adamw']).default('adam'),
    weightDecay: z.number().min(0).max(1).default(0),
    clipNorm: z.number().positive().max(1e6).default(GLOW_TRAINING_DEFAULTS.clipNorm),
    /** Class-conditional prior (Glow paper) on the dataset's labels; the hub decides as for DDPM. */
    conditioning: conditioningField(),
    numClasses: int(1, RUN_LIMITS.maxClasses).optional(),
    /** EMA max decay; 0 disables the EMA (samples and published weights then use the raw weights). */
    emaDecay: z.number().min(0).max(0.99999).default(GLOW_TRAINING_DEFAULTS.emaDecay),
    sampleEvery: int(1, RUN_LIMITS.maxSteps).default(500),
    /** Images per temperature in each grid (a class-conditional grid: per class row, count / classes columns). */
    sampleCount: int(1, RUN_LIMITS.maxSampleCount).default(16),
    /** One grid block per temperature, top to bottom (T scales the priors' standard deviations). */
    sampleTemperatures: z
      .array(z.number().gt(0, 'must be > 0').max(2, 'must be at most 2'))
      .min(1, 'must list at least one temperature')
      .max(MAX_SAMPLE_TEMPERATURES, `must list at most ${MAX_SAMPLE_TEMPERATURES} temperatures`)
      .default(DEFAULT_SAMPLE_TEMPERATURES),
    sampleSeed: int(0, 2 ** 31 - 1).default(20261126),
    ...heldOutFields(),
    checkpointEvery: int(1, RUN_LIMITS.maxSteps).default(1000),
    keepCheckpoints: int(1, RUN_LIMITS.maxKeepCheckpoints).default(3),
    reportEverySec: z.number().min(0.2).max(60).default(2),
    ...ddpmOnly,
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const field of DDPM_ONLY_FIELDS) {
      if (c[field] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `is a DDPM setting: a Glow run has no ${field} (leave it out, or use architecture ddpm)`,
        });
    }
  })
  .transform((c) => {
    const {
      schedule,
      timesteps,
      prediction,
      labelDropout,
      sampleSampler,
      sampleSteps,
      sampleGuidance,
      heldOutTimesteps,
      ...rest
    } = c;
    void [schedule, timesteps, prediction, labelDropout, sampleSampler, sampleSteps, sampleGuidance, heldOutTimesteps];
    return { ...rest, steps: c.steps ?? GLOW_PRESET_DEFAULT_STEPS[c.preset] };
  })
  .superRefine((c, ctx) => {
    if (c.microBatch !== undefined && c.microBatch > c.batchSize)
      ctx.addIssue({ code: 'custom', path: ['microBatch'], message: `must be at most batchSize (${c.batchSize})` });
    if (c.numClasses !== undefined && c.conditioning !== 'class')
      ctx.addIssue({
        code: 'custom',
        path: ['numClasses'],
        message: `only class-conditional runs (conditioning: class) have classes`,
      });
    if (c.warmupSteps >= c.steps && c.lrDecay === 'cosine')
      ctx.addIssue({
        code: 'custom',
        path: ['warmupSteps'],
        message: `must be below steps (${c.steps}) for cosine decay`,
      });
    // The flow's own rules (resolution divisible by 2^levels…), reported on the field that breaks them.
    try {
      validateGlowConfig(glowConfigOf(c, 3));
    } catch (error) {
      const message = (error as Error).message;
      const field = /^glow\.(\w+)/.exec(message)?.[1] ?? 'preset';
      ctx.addIssue({
        code: 'custom',
        path: field === 'preset' ? ['preset'] : ['model', field],
        message: message.replace(/^glow\.\w+ /, ''),
      });
    }
  });

export type GlowRunConfigInput = z.input<typeof GlowRunConfigSchema>;
export type GlowRunConfig = z.output<typeof GlowRunConfigSchema>;

function glowConfigOf(config: Pick<GlowRunConfig, 'preset' | 'model'>, channels: number, numClasses?: number) {
  const overrides: Partial<GlowConfig> = { channels };
  for (const [key, value] of Object.entries(config.model))
    if (value !== undefined) Object.assign(overrides, { [key]: value });
  if (numClasses !== undefined) overrides.numClasses = numClasses;
  const { preset } = config;
  // The preset's values with the overrides, validated together (glowPresetConfig throws naming the field).
  return glowPresetConfig(preset, overrides);
}

/**
 * The flow a Glow run trains: the preset with the overrides, the dataset's channel count and, for
 * class-conditional runs, numClasses (which the hub fills in from the dataset at startRun).
 */
export function glowConfigFor(config: GlowRunConfig, channels: number): GlowConfig {
  if (config.conditioning === 'class' && config.numClasses === undefined)
    throw new Error('a class-conditional run config needs numClasses (the dataset label count)');
  return glowConfigOf(config, channels, config.conditioning === 'class' ? config.numClasses : undefined);
}
