import type { ObjectStore } from '@dapple/storage';

/**
 * The dataset classifier of a dataset version is trained once (by the first evaluation against it that
 * needs it) and cached in the object store under the version's own prefix, so it goes when the version
 * goes. The key names the classifier's version and training budget: changing either trains a new one
 * instead of reading one made another way.
 */
export interface ClassifierConfig {
  /** Optimiser steps (Adam, batches of 64). */
  steps: number;
  /** Labelled images it trains on at most (a seeded choice when the version has more). */
  maxTrainImages: number;
}

export const DEFAULT_CLASSIFIER: ClassifierConfig = { steps: 300, maxTrainImages: 5000 };

/** `dataset-classifier-v1` is the network and training recipe of @dapple/models' dataset-classifier.ts. */
export const classifierId = (c: ClassifierConfig) => `dataset-classifier-v1-steps${c.steps}-max${c.maxTrainImages}`;

/** model.json of the cached classifier (weights.bin beside it). */
export const classifierKey = (datasetPrefix: string, id: string) => `${datasetPrefix}classifiers/${id}/model.json`;

/** Stores a classifier a worker trained: weights first, model.json last, so a reader that finds model.json finds it whole. */
export async function cacheClassifier(
  store: ObjectStore,
  modelJsonKey: string,
  files: { modelJson: Uint8Array; weights: Uint8Array },
): Promise<void> {
  const dir = modelJsonKey.slice(0, modelJsonKey.lastIndexOf('/') + 1);
  const weights = Buffer.from(files.weights.buffer, files.weights.byteOffset, files.weights.byteLength);
  await store.put(`${dir}weights.bin`, weights, { size: weights.length, contentType: 'application/octet-stream' });
  const json = Buffer.from(files.modelJson.buffer, files.modelJson.byteOffset, files.modelJson.byteLength);
  await store.put(modelJsonKey, json, { size: json.length, contentType: 'application/json' });
}
