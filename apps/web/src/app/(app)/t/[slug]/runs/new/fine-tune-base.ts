import type { ResultOf } from '../../../../../../graphql/tada';
import type { FineTuneBaseQuery } from '../../../../../../graphql/operations/runs';

/** A model version a new run fine-tunes: what the form shows and the network settings it must send. */
export interface FineTuneBase {
  versionId: string;
  label: string;
  resolution: number;
  channels: number;
  /** Class names when the base is class-conditional, else []. */
  labelNames: string[];
  /** The base's architecture, preset and model overrides: a fine-tune keeps its network (the hub checks). */
  architecture: 'ddpm' | 'glow';
  preset: string;
  model: Record<string, unknown>;
}

/** Reads the network settings out of a version's configJson (`training` is the run config it was trained with). */
export function fineTuneBase(version: ResultOf<typeof FineTuneBaseQuery>['modelVersion']): FineTuneBase {
  let training: { architecture?: unknown; preset?: unknown; model?: unknown } = {};
  try {
    training = (JSON.parse(version.configJson) as { training?: typeof training }).training ?? {};
  } catch {
    // A version without a readable training config: the preset default below, and the hub names any mismatch.
  }
  return {
    versionId: version.id,
    label: `${version.model.name} v${version.number}`,
    resolution: version.resolution,
    channels: version.channels,
    labelNames: [...version.labelNames],
    architecture: training.architecture === 'glow' ? 'glow' : 'ddpm',
    preset: typeof training.preset === 'string' ? training.preset : 'tiny',
    model: training.model && typeof training.model === 'object' ? (training.model as Record<string, unknown>) : {},
  };
}
