/**
 * The model families as a GraphQL enum: the run config's `architecture` (generated from the zod schema in
 * run-config.ts, which reuses this enum) and a model version's.
 */
import { ARCHITECTURES } from '@dapple/contracts/run-config';
import { builder } from '../builder.ts';
import { upperCaseValues } from '../enum-values.ts';

export const ArchitectureEnum = builder.enumType('Architecture', {
  description: 'DDPM: a denoising diffusion UNet (variational bound). GLOW: a normalizing flow (exact likelihood).',
  values: upperCaseValues(ARCHITECTURES),
});
