/**
 * The dataset version's classifier inside a sampling worker: loaded from the object store when an
 * earlier evaluation cached it, else trained here on the version's labelled images (the hub thread
 * then stores the files this returns, so later evaluations reuse it).
 */
import * as tf from '@tensorflow/tfjs';
import { parseManifest, ShardReader, toFloatImages } from '@dapple/datasets';
import {
  artifactsToModelJson,
  weightDataToBuffer,
  memoryHandler,
  loadDatasetClassifier,
  trainDatasetClassifier,
  type DatasetClassifier,
} from '@dapple/models';
import type { ClassifierTask, EvaluateTask } from './protocol.ts';
import { storeReadHandler } from './worker-io.ts';

/** Side the classifier sees (it resizes to at most this): training images are kept at this size, not the dataset's. */
const CLASSIFIER_INPUT = 32;

export interface ReadyClassifier {
  model: DatasetClassifier;
  trained: boolean;
  files?: { modelJson: Uint8Array; weights: Uint8Array };
}

export async function datasetClassifierFor(
  task: EvaluateTask,
  spec: ClassifierTask,
  read: (key: string) => Promise<Uint8Array>,
  signal: AbortSignal,
): Promise<ReadyClassifier> {
  if (spec.cached) {
    return { model: await loadDatasetClassifier(storeReadHandler(spec.key, 'beside', read)), trained: false };
  }
  const manifest = parseManifest(task.dataset.manifest);
  const numClasses = manifest.labels.names.length;
  const size = Math.min(CLASSIFIER_INPUT, manifest.resolution);
  const reader = new ShardReader({
    manifest,
    batchSize: 64,
    epochs: 1,
    // Its own seed: the classifier must not depend on the evaluation's seed (it is shared by all of them).
    seed: 0,
    open: async (name) => {
      const bytes = await read(`${task.dataset.prefix}${name}`);
      return (async function* () {
        yield bytes;
      })();
    },
  });
  const parts: tf.Tensor4D[] = [];
  const labels: number[] = [];
  for await (const batch of reader) {
    if (signal.aborted) throw new Error('evaluation aborted');
    const per = batch.height * batch.width * batch.channels;
    const keep: number[] = [];
    for (let i = 0; i < batch.size && labels.length + keep.length < spec.maxTrainImages; i++)
      if (batch.labels[i]! >= 0) keep.push(i);
    if (keep.length === 0) continue;
    const pixels = new Uint8Array(keep.length * per);
    keep.forEach((i, j) => pixels.set(batch.images.subarray(i * per, (i + 1) * per), j * per));
    const images = tf.tensor4d(toFloatImages(pixels), [keep.length, batch.height, batch.width, batch.channels]);
    // The same resize the classifier would apply itself, done per batch so a large dataset's full-size pixels are never all held.
    parts.push(
      size === batch.height ? images : tf.tidy(() => tf.image.resizeBilinear(images, [size, size], false, true)),
    );
    if (size !== batch.height) images.dispose();
    for (const i of keep) labels.push(batch.labels[i]!);
    if (labels.length >= spec.maxTrainImages) break;
  }
  const images = tf.concat(parts) as tf.Tensor4D;
  tf.dispose(parts);
  try {
    const { model } = await trainDatasetClassifier(images, labels, { numClasses, steps: spec.steps, seed: 0 });
    const handler = memoryHandler();
    await model.save(handler);
    const modelJson = new TextEncoder().encode(JSON.stringify(artifactsToModelJson(handler.artifacts!)));
    const weights = new Uint8Array(weightDataToBuffer(handler.artifacts!.weightData));
    return { model, trained: true, files: { modelJson, weights } };
  } finally {
    images.dispose();
  }
}
