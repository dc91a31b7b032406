import { eq } from 'drizzle-orm';
import { datasets, datasetVersions, type Db } from '@dapple/db';
import { RunConfigSchema, unetConfigFor, type RunConfig } from '@dapple/contracts/run-config';
import { badInput, isServiceError } from '../errors.ts';
import { invalidInput } from '../validation.ts';
import { requireSameArchitecture, type BaseModel } from './base-model.ts';
import { checkGlowRunConfig } from './run-config-glow.ts';
import { datasetLabelNames, resolveConditioning } from './conditioning.ts';

/** The dataset version a run trains on, with what a run config is checked against. */
export interface TrainingDataset {
  id: string;
  teamId: string;
  resolution: number;
  channels: number;
  name: string;
  labelNames: string[];
}

/**
 * The version by id, if it is ready for training; BAD_USER_INPUT naming `datasetVersionId` otherwise.
 * `authorize` (the caller's team check) runs before anything about the version is told: another team's
 * version answers exactly like a missing one, never with its name or status.
 */
export async function trainingDatasetVersion(
  db: Db,
  id: string,
  authorize: (teamId: string) => Promise<unknown>,
): Promise<TrainingDataset> {
  const [row] = await db
    .select({ version: datasetVersions, dataset: datasets })
    .from(datasetVersions)
    .innerJoin(datasets, eq(datasets.id, datasetVersions.datasetId))
    .where(eq(datasetVersions.id, id));
  const missing = () => badInput('datasetVersionId', `datasetVersionId: no dataset version ${id}`);
  if (!row) throw missing();
  await authorize(row.dataset.teamId).catch((err: unknown) => {
    throw isServiceError(err, 'NOT_FOUND') ? missing() : err;
  });
  if (row.version.status !== 'ready') {
    throw badInput(
      'datasetVersionId',
      `datasetVersionId: version ${row.version.number} of "${row.dataset.name}" is ${row.version.status}, not ready for training`,
    );
  }
  // A run on no images would "succeed" after 0 steps; every file rejected (corrupt, duplicates) leaves none.
  if (!row.version.acceptedCount) {
    throw badInput(
      'datasetVersionId',
      `datasetVersionId: version ${row.version.number} of "${row.dataset.name}" has no accepted images to train on (${row.version.rejectedCount} rejected); upload images and start the run on that version`,
    );
  }
  return {
    id: row.version.id,
    teamId: row.dataset.teamId,
    resolution: row.dataset.resolution,
    channels: row.dataset.channels,
    name: row.dataset.name,
    labelNames: datasetLabelNames(row.version.manifest),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * The config with the dataset's image side as `model.resolution` where the caller left it out: a preset's own
 * resolution (16 px for tiny) would only make the run refuse the dataset, so what the data is decides, as the
 * dashboard always did. (The image channels always come from the dataset: the config has no such field.)
 * Anything that is not an object is left for the schema to name.
 */
export function withDatasetResolution(raw: unknown, resolution: number): unknown {
  if (!isRecord(raw)) return raw;
  const model = raw['model'];
  if (model !== undefined && model !== null && !isRecord(model)) return raw;
  if (isRecord(model) && model['resolution'] !== undefined && model['resolution'] !== null) return raw;
  return { ...raw, model: { ...(isRecord(model) ? model : {}), resolution } };
}

/**
 * The RunConfig schema, plus the checks that need the dataset (resolution, labels) and the network (UNet
 * shape, and the base model's when fine-tuning).
 */
export function validateRunConfig(
  raw: unknown,
  version: Pick<TrainingDataset, 'resolution' | 'channels' | 'name' | 'labelNames'>,
  field: string,
  opts: { base: BaseModel | null; autoConditioning: boolean },
): RunConfig {
  const parsed = RunConfigSchema.safeParse(raw);
  if (!parsed.success) throw invalidInput(parsed.error, { prefix: field });
  const given = opts.autoConditioning
    ? parsed.data
    : { ...parsed.data, conditioning: parsed.data.conditioning ?? 'none' };
  const config = resolveConditioning(given, version, opts.base, field);
  if (config.architecture === 'glow') {
    checkGlowRunConfig(config, version, field, opts.base);
    return config;
  }
  const unet = unetConfigFor(config, version.channels);
  if (unet.resolution !== version.resolution) {
    const f = config.model.resolution !== undefined ? `${field}.model.resolution` : `${field}.preset`;
    throw badInput(
      f,
      `${f}: the model trains on ${unet.resolution}×${unet.resolution} images but dataset "${version.name}" is ${version.resolution}×${version.resolution}; set ${field}.model.resolution to ${version.resolution} or pick a dataset of that resolution`,
    );
  }
  const levels = unet.channelMults.length;
  if (unet.resolution % 2 ** (levels - 1) !== 0) {
    throw badInput(
      `${field}.model.channelMults`,
      `${field}.model.channelMults: ${levels} levels need a resolution divisible by ${2 ** (levels - 1)}`,
    );
  }
  for (const m of unet.channelMults) {
    if ((unet.baseChannels * m) % unet.groups !== 0) {
      throw badInput(
        `${field}.model.groups`,
        `${field}.model.groups: ${unet.groups} must divide every channel count (${unet.baseChannels * m} is not divisible)`,
      );
    }
  }
  if (opts.base) requireSameArchitecture(opts.base, unet, field);
  return config;
}
