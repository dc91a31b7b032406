import { glowConfigFor, type GlowRunConfig } from '@dapple/contracts/run-config-glow';
import type { GlowConfig } from '@dapple/models/config';
import { badInput } from '../errors.ts';
import type { BaseModel } from './base-model.ts';

/** The GlowConfig fields that shape the weights (all of them: a flow has no dropout). */
const GLOW_SHAPE_FIELDS = [
  'resolution',
  'channels',
  'levels',
  'depth',
  'hiddenChannels',
  'coupling',
  'nBits',
  'numClasses',
] as const;

/**
 * The checks of a Glow run config that need the dataset and the base model: the flow's resolution is the
 * dataset's, and a fine-tune's flow is the base version's (same architecture, same shapes).
 */
export function checkGlowRunConfig(
  config: GlowRunConfig,
  version: { resolution: number; channels: number; name: string },
  field: string,
  base: BaseModel | null,
): GlowConfig {
  let glow: GlowConfig;
  try {
    glow = glowConfigFor(config, version.channels);
  } catch (error) {
    const message = (error as Error).message;
    const key = /^glow\.(\w+)/.exec(message)?.[1];
    const f = key ? `${field}.model.${key}` : `${field}.preset`;
    throw badInput(f, `${f}: ${message.replace(/^glow\.\w+ /, '')}`);
  }
  if (glow.resolution !== version.resolution) {
    const f = config.model.resolution !== undefined ? `${field}.model.resolution` : `${field}.preset`;
    throw badInput(
      f,
      `${f}: the flow trains on ${glow.resolution}×${glow.resolution} images but dataset "${version.name}" is ${version.resolution}×${version.resolution}; set ${field}.model.resolution to ${version.resolution} (divisible by 2^levels) or pick a dataset of that resolution`,
    );
  }
  if (base) requireSameGlow(base, glow, field);
  return glow;
}

function requireSameGlow(base: BaseModel, glow: GlowConfig, field: string): void {
  const name = `"${base.model.name}" v${base.version.number}`;
  if (base.architecture !== 'glow')
    throw badInput(
      `${field}.architecture`,
      `fromModelVersionId: the base model ${name} is a ${base.architecture} model; a fine-tune keeps the base's architecture (use architecture ${base.architecture.toUpperCase()})`,
    );
  const diffs: string[] = [];
  let first: string | null = null;
  for (const key of GLOW_SHAPE_FIELDS) {
    const mine = glow[key];
    const theirs = base.glow?.[key];
    if (mine === theirs) continue;
    diffs.push(`${key} ${JSON.stringify(mine) ?? 'none'} (base ${JSON.stringify(theirs) ?? 'none'})`);
    first ??=
      key === 'channels'
        ? 'datasetVersionId'
        : key === 'numClasses'
          ? `${field}.conditioning`
          : `${field}.model.${key}`;
  }
  if (first)
    throw badInput(
      first,
      `fromModelVersionId: the run's flow differs from the base model ${name}: ${diffs.join(', ')}. A fine-tune keeps the base's architecture`,
    );
}
