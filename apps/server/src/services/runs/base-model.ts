/**
 * Fine-tuning: a run may start from the weights of a published model version. The caller must be allowed to
 * read that version (ModelAccessService: team role, shares, public visibility), and the run's network must be
 * the version's network, or its weights would not load. Nothing is stored or started when either fails.
 */
import type { Model, ModelVersion } from '@dapple/db';
import type { UNetConfig, GlowConfig } from '@dapple/models/config';
import { badInput, isServiceError, ServiceError } from '../errors.ts';
import type { ModelAccessService } from '../models/index.ts';
import type { RequestMeta } from '../types.ts';

/** The UNet fields that shape the weights (dropout does not: it may differ between the base and the fine-tune). */
export const WEIGHT_SHAPE_FIELDS = [
  'resolution',
  'channels',
  'baseChannels',
  'channelMults',
  'numResBlocks',
  'attentionResolutions',
  'groups',
  'learnSigma',
  'numClasses',
] as const;

export interface BaseModel {
  version: ModelVersion;
  model: Model;
  /** The model family of the version (versions from before Glow are ddpm). */
  architecture: 'ddpm' | 'glow';
  /** The version's UNet, from the config it was published with ({} for a Glow). */
  unet: Partial<UNetConfig>;
  /** A Glow version's flow. */
  glow: GlowConfig | null;
  /** The base's training config (preset, model overrides, …), when the version recorded it. */
  training: Record<string, unknown> | null;
}

/**
 * The model version to fine-tune from, if the caller may read it. A version the caller may not read is
 * NOT_FOUND, exactly like an unknown id (existence of other teams' private models is not leaked); the message
 * names the input field so the form can show it there.
 */
export async function readableBaseModel(
  access: ModelAccessService,
  meta: RequestMeta,
  versionId: string,
): Promise<BaseModel> {
  let found: { version: ModelVersion; model: Model };
  try {
    found = await access.requireVersionAccess(meta, versionId, 'read');
  } catch (err) {
    if (isServiceError(err, 'NOT_FOUND') || isServiceError(err, 'FORBIDDEN')) {
      throw new ServiceError(
        err.code,
        `fromModelVersionId: model version ${versionId} was not found, or you may not read it`,
        { field: 'fromModelVersionId' },
      );
    }
    throw err;
  }
  const config = found.version.config as {
    architecture?: 'ddpm' | 'glow';
    unet?: Partial<UNetConfig>;
    glow?: GlowConfig;
    training?: Record<string, unknown>;
  };
  return {
    ...found,
    architecture: config.architecture === 'glow' ? 'glow' : 'ddpm',
    unet: config.unet ?? {},
    glow: config.glow ?? null,
    training: config.training ?? null,
  };
}

/**
 * For each of a fine-tune's dataset labels, the base's label-embedding row it starts from: a label the base
 * also has (same name) keeps its row, so "dog" still means dog when the new dataset lists its folders in
 * another order; the other labels take the base's unclaimed rows in order. Null when that is row i for
 * label i, or when there is nothing to match by (no names on the base, or another class count, which the
 * architecture check refuses anyway).
 */
export function baseLabelRows(baseNames: readonly string[], datasetNames: readonly string[]): number[] | null {
  if (baseNames.length === 0 || baseNames.length !== datasetNames.length) return null;
  const baseRow = new Map(baseNames.map((name, row) => [name, row]));
  const claimed = new Set(datasetNames.flatMap((name) => (baseRow.has(name) ? [baseRow.get(name)!] : [])));
  const unclaimed = baseNames.map((_, row) => row).filter((row) => !claimed.has(row));
  const rows = datasetNames.map((name) => baseRow.get(name) ?? unclaimed.shift()!);
  return rows.every((row, i) => row === i) ? null : rows;
}

/** Diffusion settings a fine-tune inherits from its base unless the input sets them. */
export const INHERITED_DIFFUSION_FIELDS = ['schedule', 'timesteps', 'prediction'] as const;

/**
 * The raw run config with the base's noise schedule, timestep count and prediction target filled in where the
 * caller left them out: the base's weights learned that process (its timestep embedding means t of T), and the
 * zod defaults (cosine, 1000, eps) would silently change it. Given explicitly, they are the caller's choice.
 */
export function withBaseDiffusion(raw: unknown, base: BaseModel): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw) || !base.training) return raw;
  // A flow has no diffusion process to inherit (and the Glow schema refuses these fields).
  if (base.architecture === 'glow' || (raw as Record<string, unknown>)['architecture'] === 'glow') return raw;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const key of INHERITED_DIFFUSION_FIELDS)
    if (out[key] === undefined && base.training[key] !== undefined) out[key] = base.training[key];
  return out;
}

const show = (v: unknown) => (v === undefined ? 'none' : JSON.stringify(v));

/**
 * BAD_USER_INPUT naming every weight-shaping field where the run's UNet differs from the base version's,
 * with both values, so the user can set the run config to the base's architecture.
 */
export function requireSameArchitecture(base: BaseModel, unet: UNetConfig, configField: string): void {
  if (base.architecture !== 'ddpm')
    throw badInput(
      `${configField}.architecture`,
      `fromModelVersionId: the base model "${base.model.name}" v${base.version.number} is a ${base.architecture} model; a fine-tune keeps the base's architecture (use architecture ${base.architecture.toUpperCase()})`,
    );
  const diffs: string[] = [];
  let firstField: string | null = null;
  for (const key of WEIGHT_SHAPE_FIELDS) {
    const mine = normalise(key, unet[key]);
    const theirs = normalise(key, base.unet[key]);
    if (JSON.stringify(mine) === JSON.stringify(theirs)) continue;
    diffs.push(`${key} ${show(mine)} (base ${show(theirs)})`);
    firstField ??=
      key === 'channels'
        ? 'datasetVersionId'
        : key === 'numClasses'
          ? `${configField}.conditioning`
          : `${configField}.model.${key}`;
  }
  if (!firstField) return;
  const name = `"${base.model.name}" v${base.version.number}`;
  const preset =
    typeof base.training?.['preset'] === 'string'
      ? `; it was trained with preset ${base.training['preset']} and model ${JSON.stringify(base.training['model'] ?? {})}`
      : '';
  throw badInput(
    firstField,
    `fromModelVersionId: the run's network differs from the base model ${name}: ${diffs.join(', ')}. A fine-tune keeps the base's architecture${preset}`,
  );
}

/** Treats the defaults of optional fields as equal to their absence (learnSigma false, no classes). */
function normalise(key: (typeof WEIGHT_SHAPE_FIELDS)[number], value: unknown): unknown {
  if (key === 'learnSigma') return value === true;
  return value ?? undefined;
}
