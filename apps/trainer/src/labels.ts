import * as tf from '@tensorflow/tfjs';
import type { UNetConfig } from '@dapple/models';
import type { DatasetManifest } from '@dapple/datasets';

/**
 * The label names a class-conditional run trains on (index i = class i), checked against the model: the hub
 * set numClasses from this manifest at startRun, so a difference means the config and the data disagree.
 * Unconditional runs train on no labels: [].
 */
export function checkLabels(unet: UNetConfig, manifest: DatasetManifest): string[] {
  if (unet.numClasses === undefined) return [];
  const names = [...manifest.labels.names];
  if (names.length !== unet.numClasses) {
    throw new Error(
      `the run is conditioned on ${unet.numClasses} classes but its dataset version has ${names.length} labels (${names.join(', ') || 'none'})`,
    );
  }
  return names;
}

/**
 * A batch's shard labels as the UNet's int32 class ids. Unlabelled images (-1: the file sat at the root of the
 * upload) get the null label numClasses, so they train the unconditional half of classifier-free guidance.
 */
export function batchLabels(labels: Int32Array, numClasses: number): tf.Tensor1D {
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l >= numClasses) throw new Error(`a shard holds label ${l}, but the run has ${numClasses} classes`);
    ids[i] = l < 0 ? numClasses : l;
  }
  return tf.tensor1d(ids, 'int32');
}
