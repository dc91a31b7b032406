import {
  countGlowParams,
  countUNetParams,
  GLOW_PRESET_NAMES,
  PRESET_NAMES,
  type GlowPresetName,
  type PresetName,
} from '@dapple/models/config';
import {
  DdpmRunConfigSchema,
  unetConfigFor,
  type Architecture,
  type DdpmRunConfig,
  type RunConfig,
} from '@dapple/contracts/run-config';
import { glowConfigFor, GlowRunConfigSchema, type GlowRunConfig } from '@dapple/contracts/run-config-glow';
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

type AnyPreset = PresetName | GlowPresetName;

/** What each preset is for, in a user's words (the dashboard shows it under the preset choice). */
export const PRESET_DESCRIPTIONS: Record<AnyPreset, string> = {
  tiny: 'A quick check that everything works: minutes on a CPU.',
  small: 'A first real model.',
  base: 'The best quality; wants a GPU.',
  'glow-tiny': 'A flow sized like Tiny: minutes on a CPU, exact bits/dim from the first step.',
  'glow-small': 'A first real flow, sized like Small; samples in one network pass.',
  'glow-base': "The Glow paper's CIFAR-10 model (L 3 × K 32, 512 channels); wants a GPU.",
};

export interface RunPresetView {
  architecture: Architecture;
  preset: AnyPreset;
  description: string;
  /** The config startRun stores for `{ preset }` alone on the dataset version (null when it cannot train on it). */
  defaults: RunConfig | null;
  /** Why the preset cannot train on the dataset version as it is (e.g. a resolution its levels cannot halve). */
  error: string | null;
  resolution: number;
  channels: number;
  /** Trainable parameters of that config's UNet or flow (0 when it cannot train on the dataset). */
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
    // DDPM's presets, then Glow's (sized against them), in size order within each.
    return [
      ...PRESET_NAMES.map((preset) => presetView(preset, version)),
      ...GLOW_PRESET_NAMES.map((preset) => glowPresetView(preset, version)),
    ];
  }
}

function presetView(preset: PresetName, version: TrainingDataset | null): RunPresetView {
  const description = PRESET_DESCRIPTIONS[preset];
  const architecture = 'ddpm';
  if (!version) {
    // Without a dataset: the preset as it is (its own resolution, RGB, unconditional).
    const config: DdpmRunConfig = { ...DdpmRunConfigSchema.parse({ preset }), conditioning: 'none' };
    const unet = unetConfigFor(config, 3);
    const { resolution, channels } = unet;
    return {
      architecture,
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
    return { architecture, preset, description, defaults: config, error: null, resolution, channels, parameters };
  } catch (err) {
    if (!isServiceError(err)) throw err;
    return {
      architecture,
      preset,
      description,
      defaults: null,
      error: err.message,
      resolution,
      channels,
      parameters: 0,
    };
  }
}

/** A Glow preset, through the same path as startRun's `{ architecture: glow, preset }`. */
function glowPresetView(preset: GlowPresetName, version: TrainingDataset | null): RunPresetView {
  const description = PRESET_DESCRIPTIONS[preset];
  const architecture = 'glow';
  if (!version) {
    const config: GlowRunConfig = {
      ...GlowRunConfigSchema.parse({ architecture, preset }),
      conditioning: 'none',
    };
    const glow = glowConfigFor(config, 3);
    const { resolution, channels } = glow;
    return {
      architecture,
      preset,
      description,
      defaults: config,
      error: null,
      resolution,
      channels,
      parameters: countGlowParams(glow),
    };
  }
  const { resolution, channels } = version;
  try {
    const raw = withDatasetResolution({ architecture, preset }, resolution);
    const config = validateRunConfig(raw, version, 'config', { base: null, autoConditioning: true });
    if (config.architecture !== 'glow') throw new Error(`preset ${preset} resolved to a DDPM config`);
    const parameters = countGlowParams(glowConfigFor(config, channels));
    return { architecture, preset, description, defaults: config, error: null, resolution, channels, parameters };
  } catch (err) {
    if (!isServiceError(err)) throw err;
    return {
      architecture,
      preset,
      description,
      defaults: null,
      error: err.message,
      resolution,
      channels,
      parameters: 0,
    };
  }
}
