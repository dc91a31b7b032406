/**
 * Class conditioning of a run (RunConfig.conditioning): resolves the default and ties numClasses to the
 * dataset version's labels (the top-level folder names of the upload), before anything is stored.
 */
import type { RunConfig } from '@dapple/contracts/run-config';
import { badInput } from '../errors.ts';
import type { BaseModel } from './base-model.ts';

export interface LabeledDataset {
  name: string;
  /** manifest.labels.names of the version: label index i in the shards is names[i]. */
  labelNames: string[];
}

/** A dataset version's label names (manifest.labels.names) in label-index order; [] for an unlabelled one. */
export function datasetLabelNames(manifest: unknown): string[] {
  const names = (manifest as { labels?: { names?: unknown } } | null)?.labels?.names;
  return Array.isArray(names) ? names.map(String) : [];
}

/**
 * The config with `conditioning` decided and, for `class`, `numClasses` set to the dataset's label count.
 * Left out, conditioning follows the base model when fine-tuning (its weights decide), else it is `class`
 * when the dataset has at least 2 labels (one label conditions on nothing), else `none`.
 */
export function resolveConditioning<C extends RunConfig>(
  config: C,
  dataset: LabeledDataset,
  base: BaseModel | null,
  field: string,
): C {
  const labels = dataset.labelNames.length;
  const conditioning =
    config.conditioning ??
    (base
      ? (base.glow?.numClasses ?? base.unet.numClasses) !== undefined
        ? 'class'
        : 'none'
      : labels >= 2
        ? 'class'
        : 'none');
  if (conditioning === 'none') return { ...config, conditioning };
  if (labels === 0) {
    throw badInput(
      `${field}.conditioning`,
      `${field}.conditioning: class conditioning needs labelled images, but dataset "${dataset.name}" has no labels (a label is the top-level folder an image was uploaded in); use conditioning none, or upload one folder per class`,
    );
  }
  if (config.numClasses !== undefined && config.numClasses !== labels) {
    throw badInput(
      `${field}.numClasses`,
      `${field}.numClasses: dataset "${dataset.name}" has ${labels} labels (${dataset.labelNames.slice(0, 10).join(', ')}${labels > 10 ? ', …' : ''}), not ${config.numClasses}; leave numClasses out to use the dataset's`,
    );
  }
  return { ...config, conditioning, numClasses: labels };
}
