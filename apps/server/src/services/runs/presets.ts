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
      ...PRESET_NAMES.map((preset) => presetView(DDPM, preset, version)),
      ...GLOW_PRESET_NAMES.map((preset) => presetView(GLOW, preset, version)),
    ];
  }
}

/** What differs between the architectures' presets: how a preset is asked for, and how its model is sized. */
interface PresetFamily<P extends AnyPreset, C extends RunConfig> {
  architecture: Architecture;
  /** What startRun receives for the preset alone. */
  request(preset: P): Record<string, unknown>;
  /** The preset's own config, without a dataset (its own resolution, RGB, unconditional). */
  standalone(preset: P): C;
  is(config: RunConfig): config is C;
  /** The model's resolution, channels and trainable parameters for `channels` image channels. */
  size(config: C, channels: number): { resolution: number; channels: number; parameters: number };
}

const DDPM: PresetFamily<PresetName, DdpmRunConfig> = {
  architecture: 'ddpm',
  request: (preset) => ({ preset }),
  standalone: (preset) => ({ ...DdpmRunConfigSchema.parse({ preset }), conditioning: 'none' }),
  is: (config): config is DdpmRunConfig => config.architecture !== 'glow',
  size: (config, channels) => {
    const unet = unetConfigFor(config, channels);
    return { resolution: unet.resolution, channels: unet.channels, parameters: countUNetParams(unet) };
  },
};

const GLOW: PresetFamily<GlowPresetName, GlowRunConfig> = {
  architecture: 'glow',
  request: (preset) => ({ architecture: 'glow', preset }),
  standalone: (preset) => ({ ...GlowRunConfigSchema.parse({ architecture: 'glow', preset }), conditioning: 'none' }),
  is: (config): config is GlowRunConfig => config.architecture === 'glow',
  size: (config, channels) => {
    const glow = glowConfigFor(config, channels);
    return { resolution: glow.resolution, channels: glow.channels, parameters: countGlowParams(glow) };
  },
};

/** A preset, through the same path as startRun's request for it alone. */
function presetView<P extends AnyPreset, C extends RunConfig>(
  family: PresetFamily<P, C>,
  preset: P,
  version: TrainingDataset | null,
): RunPresetView {
  const description = PRESET_DESCRIPTIONS[preset];
  const { architecture } = family;
  if (!version) {
    const config = family.standalone(preset);
    return { architecture, preset, description, defaults: config, error: null, ...family.size(config, 3) };
  }
  const { resolution, channels } = version;
  try {
    const raw = withDatasetResolution(family.request(preset), resolution);
    const config = validateRunConfig(raw, version, 'config', { base: null, autoConditioning: true });
    if (!family.is(config)) throw new Error(`preset ${preset} resolved to another architecture's config`);
    const { parameters } = family.size(config, channels);
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
