import type { SamplerKind } from '@dapple/models/config';
import type { ModelVersion } from '@dapple/db';
import { samplingSpecFromConfig, specImages, type SamplingSpec } from '@dapple/models/browser';
import type { ModelRef, TaskRequest } from '../../sampling-pool/protocol.ts';
import { badInput } from '../errors.ts';
import type { InterpolationParams } from './interpolation.ts';

// From a model version and a user's request to what the sampling worker pool runs: the model's spec and files,
// the batch size, the label's class id.

/** What a job was asked for (stored in sample_jobs.params; shown by GraphQL). */
export interface SampleParams {
  count: number;
  steps: number;
  sampler: SamplerKind;
  eta: number;
  seed: number;
  guidance: number | null;
  label: string | null;
  labelId: number | null;
  /** Glow models: temperature of the priors (stored jobs from before Glow have none). */
  temperature?: number | null;
  /** Set on interpolation jobs (interpolateDatasetImages): count = steps = frames. */
  interpolation?: InterpolationParams;
}

/** The spec a sampler needs, from a version row. */
export function versionSpec(version: ModelVersion): SamplingSpec {
  return samplingSpecFromConfig({ ...version.config, labelNames: version.labelNames });
}

export function versionModelRef(version: ModelVersion): ModelRef {
  return {
    id: version.id,
    modelJsonKey: `${version.objectPrefix}model.json`,
    weightsKeys: { 'weights.bin': `${version.objectPrefix}weights.bin` },
    spec: versionSpec(version),
  };
}

/**
 * Images per forward pass: bounded so a 64-image request on a large model stays far below the wasm
 * heap's 4 GB (batches never change the images: each has its own noise stream).
 */
export function batchSizeFor(spec: SamplingSpec): number {
  const { resolution } = specImages(spec);
  const pixels = resolution * resolution;
  const width = spec.architecture === 'glow' ? spec.glow.hiddenChannels / 2 : spec.unet.baseChannels;
  if (pixels <= 16 * 16 && width <= 32) return 64;
  if (pixels <= 32 * 32 && width <= 64) return 32;
  return 8;
}

/** What the worker pool runs for a job's stored parameters. */
export function taskRequest(params: SampleParams, spec: SamplingSpec): TaskRequest {
  return {
    count: params.count,
    steps: params.steps,
    sampler: params.sampler,
    eta: params.eta,
    seed: params.seed,
    label: params.labelId,
    guidance: params.guidance,
    ...(params.temperature !== undefined && params.temperature !== null ? { temperature: params.temperature } : {}),
    batchSize: batchSizeFor(spec),
  };
}

/** A label given by class name (or by id when the model has no names) → its id; BAD_USER_INPUT naming `label` otherwise. */
export function resolveLabel(spec: SamplingSpec, label: string | null | undefined): number | null {
  if (label === null || label === undefined) return null;
  const numClasses = specImages(spec).numClasses;
  if (numClasses === undefined)
    throw badInput('label', 'label: this model is unconditional (trained without class labels); leave label empty');
  const byName = spec.labelNames.indexOf(label);
  if (byName >= 0 && byName < numClasses) return byName;
  if (/^\d+$/.test(label) && Number(label) < numClasses && spec.labelNames.length === 0) return Number(label);
  const known = spec.labelNames.length ? spec.labelNames.slice(0, numClasses).join(', ') : `0–${numClasses - 1}`;
  throw badInput('label', `label: "${label}" is not one of the model's labels (${known})`);
}
