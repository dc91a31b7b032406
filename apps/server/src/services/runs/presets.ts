import { PRESET_NAMES, type PresetName, countUNetParams } from '@dapple/models/config';
import { DdpmRunConfigSchema, unetConfigFor, type DdpmRunConfig, type RunConfig } from '@dapple/contracts/run-config';
import { requireViewer } from '../auth/index.ts';
import { isServiceError } from '../errors.ts';
import type { TeamService } from '../teams/index.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import {
  trainingDatasetVersion,
  validateRunConfig,
  withDatasetResolution,
  type TrainingDataset,
} from './run-config.ts';

/** What each preset is for, in a user's words (the dashboard shows it under the preset choice). */
export const PRESET_DESCRIPTIONS: Record<PresetName, string> = {
  tiny: 'A quick check that everything works: minutes on a CPU.',
  small: 'A first real model.',
  base: 'The best quality; wants a GPU.',
};

export interface RunPresetView {
  preset: PresetName;
  description: string;
  /** The config startRun stores for `{ preset }` alone on the dataset version (null when it cannot train on it). */
  defaults: RunConfig | null;
  /** Why the preset cannot train on the dataset version as it is (e.g. a resolution its levels cannot halve). */
  error: string | null;
  resolution: number;
  channels: number;
  /** Trainable UNet parameters of that config (0 when it cannot train on the dataset). */
  parameters: number;
}

/**
 * The presets with the defaults they resolve to: on a dataset version, exactly what startRun would store for
 * `{ preset }` alone (the dataset's resolution, conditioning from its labels), through the same code path.
 */
export class RunPresets {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly teams: TeamService,
  ) {}

  async list(meta: RequestMeta, datasetVersionId: string | null): Promise<RunPresetView[]> {
    requireViewer(meta);
    let version: TrainingDataset | null = null;
    if (datasetVersionId) {
      version = await trainingDatasetVersion(this.deps.db, datasetVersionId, (teamId) =>
        this.teams.requireTeamRole(meta, teamId, 'viewer'),
      );
    }
    return PRESET_NAMES.map((preset) => presetView(preset, version));
  }
}

function presetView(preset: PresetName, version: TrainingDataset | null): RunPresetView {
  const description = PRESET_DESCRIPTIONS[preset];
  if (!version) {
    // Without a dataset: the preset as it is (its own resolution, RGB, unconditional).
    const config: DdpmRunConfig = { ...DdpmRunConfigSchema.parse({ preset }), conditioning: 'none' };
    const unet = unetConfigFor(config, 3);
    const { resolution, channels } = unet;
    return {
      preset,
      description,
      defaults: config,
      error: null,
      resolution,
      channels,
      parameters: countUNetParams(unet),
    };
  }
  const { resolution, channels } = version;
  try {
    const raw = withDatasetResolution({ preset }, resolution);
    const config = validateRunConfig(raw, version, 'config', { base: null, autoConditioning: true });
    if (config.architecture === 'glow') throw new Error(`preset ${preset} resolved to a Glow config`);
    const parameters = countUNetParams(unetConfigFor(config, channels));
    return { preset, description, defaults: config, error: null, resolution, channels, parameters };
  } catch (err) {
    if (!isServiceError(err)) throw err;
    return { preset, description, defaults: null, error: err.message, resolution, channels, parameters: 0 };
  }
}
