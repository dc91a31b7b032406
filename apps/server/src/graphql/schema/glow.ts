/**
 * GraphQL for the Glow branch of the run config (`architecture: GLOW`): the architecture enum, Glow's model
 * overrides (in and out) and Glow's own training fields. The run-config types in runs.ts take these in;
 * everything is validated by the zod schema in @dapple/contracts (errors name the field).
 */
import { ARCHITECTURES, architectureOf, type RunConfig } from '@dapple/contracts/run-config';
import type { GlowModelOverrides } from '@dapple/contracts/run-config-glow';
import { badInput } from '../../services/errors.ts';
import { builder } from '../builder.ts';
import { upperCaseValues } from '../enum-values.ts';

export const ArchitectureEnum = builder.enumType('Architecture', {
  description: 'DDPM: a denoising diffusion UNet (variational bound). GLOW: a normalizing flow (exact likelihood).',
  values: upperCaseValues(ARCHITECTURES),
});

export const GlowModelOverridesInput = builder.inputType('GlowModelOverridesInput', {
  description:
    "Glow's flow on top of its preset; anything left out keeps the preset's value. resolution must be divisible by 2^levels.",
  fields: (t) => ({
    resolution: t.int(),
    levels: t.int({ description: 'L: levels (scales), 1–6.' }),
    depth: t.int({ description: 'K: steps of flow per level, 1–64.' }),
    hiddenChannels: t.int({ description: 'Width of the coupling networks, 4–1024.' }),
    coupling: t.string({ description: 'affine | additive' }),
    nBits: t.int({
      description: 'Bits per colour channel the images are reduced to, 1–8 (bits/dim compare at equal nBits).',
    }),
  }),
});

export const GlowModelOverridesRef = builder.objectRef<GlowModelOverrides>('GlowModelOverrides').implement({
  fields: (t) => ({
    resolution: t.exposeInt('resolution', { nullable: true }),
    levels: t.exposeInt('levels', { nullable: true }),
    depth: t.exposeInt('depth', { nullable: true }),
    hiddenChannels: t.exposeInt('hiddenChannels', { nullable: true }),
    coupling: t.exposeString('coupling', { nullable: true }),
    nBits: t.exposeInt('nBits', { nullable: true }),
  }),
});

type InputFieldBuilder = Parameters<Parameters<typeof builder.inputType>[1]['fields']>[0];
type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
type ObjectFieldBuilder = PothosSchemaTypes.ObjectFieldBuilder<Types, RunConfig>;

/** RunConfigInput's Glow fields. */
export const glowConfigInputFields = (t: InputFieldBuilder) => ({
  architecture: t.field({
    type: ArchitectureEnum,
    description: 'Default DDPM. GLOW takes glow-tiny | glow-small | glow-base presets.',
  }),
  glowModel: t.field({
    type: GlowModelOverridesInput,
    description: 'GLOW runs: the flow overrides (model is for DDPM).',
  }),
  sampleTemperatures: t.floatList({ description: 'GLOW runs: one grid block per temperature (default [0.7, 1.0]).' }),
  heldOutEvery: t.int({ description: 'GLOW runs: held-out bits/dim every N steps (default 250).' }),
  heldOutImages: t.int({
    description:
      'GLOW runs: size of the fixed held-out split of the dataset version, never trained on (default 128, 0–1024).',
  }),
});

/**
 * The zod-shaped raw config from RunConfigInput: a GLOW run's `glowModel` becomes its `model`. `glowModel` on
 * a DDPM run is an error naming it (the UNet overrides are `model`).
 */
export function runConfigFromInput(config: Record<string, unknown> | null | undefined, field = 'config'): unknown {
  if (!config) return config;
  const { glowModel, ...rest } = config;
  if (glowModel === undefined || glowModel === null) return rest;
  if (rest['architecture'] !== 'glow')
    throw badInput(
      `${field}.glowModel`,
      `${field}.glowModel: only GLOW runs take glowModel (the UNet's overrides are model)`,
    );
  if (rest['model'] !== undefined && rest['model'] !== null)
    throw badInput(`${field}.model`, `${field}.model: a GLOW run's overrides go in glowModel, not model`);
  return { ...rest, model: glowModel };
}

/** RunConfig's architecture and Glow fields (null on DDPM runs). */
export const glowConfigFields = (t: ObjectFieldBuilder) => ({
  architecture: t.field({ type: ArchitectureEnum, resolve: (c) => architectureOf(c) }),
  glowModel: t.field({
    type: GlowModelOverridesRef,
    nullable: true,
    resolve: (c) => (c.architecture === 'glow' ? c.model : null),
  }),
  sampleTemperatures: t.floatList({
    nullable: true,
    resolve: (c) => (c.architecture === 'glow' ? c.sampleTemperatures : null),
  }),
  heldOutEvery: t.int({ nullable: true, resolve: (c) => (c.architecture === 'glow' ? c.heldOutEvery : null) }),
  heldOutImages: t.int({ nullable: true, resolve: (c) => (c.architecture === 'glow' ? c.heldOutImages : null) }),
});
